// The ES module side of smoke.cjs: named and default imports of the installed package.
import assert from 'node:assert/strict'
import tarif, { Engine, TarifError } from 'tarif'
import sample from 'tarif/sample'

const { sampleDocument } = sample

assert.equal(Engine, tarif.Engine)
const engine = Engine.fromJson(sampleDocument())
const quote = engine.quote({
  account: 'I-VOLTA-LYON', sku: 'CAB-NEX-R2V3G-2.5', qty: '100', at: '2027-03-18T10:00:00+01:00',
})
assert.equal(quote.unitPrice, '1.46')
assert.equal(quote.lineTotal, '146.00')
assert.throws(() => Engine.fromJson('{'), (err) => err instanceof TarifError && err.code === 'COMPILE_ERROR')
console.log(`import 'tarif' from ${import.meta.resolve('tarif')}: 100 × ${quote.sku} = ${quote.lineTotal} ${quote.currency}`)
