// Run from a folder outside the repository where the packed `tarif` and its platform package
// were installed: CommonJS resolves `tarif` from that folder's node_modules.
'use strict'
const assert = require('node:assert/strict')
const path = require('node:path')
const tarif = require('tarif')
const { sampleDocument } = require('tarif/sample')

const resolved = require.resolve('tarif')
assert.ok(resolved.startsWith(path.join(process.cwd(), 'node_modules')), resolved)
const engine = tarif.Engine.fromJson(sampleDocument())
const quote = engine.quote({
  account: 'I-VOLTA-LYON', sku: 'CAB-NEX-R2V3G-2.5', qty: '100', at: '2027-03-18T10:00:00+01:00',
})
assert.equal(quote.unitPrice, '1.46')
assert.equal(quote.lineTotal, '146.00')
assert.throws(() => engine.quote({ account: 'NOBODY', sku: quote.sku, qty: '1' }),
  (err) => err instanceof tarif.TarifError && err.code === 'UNKNOWN_ACCOUNT')
// The rules for the `npx tarif` runs that follow in the same folder.
require('node:fs').writeFileSync('rules.json', sampleDocument())
console.log(`require('tarif') from ${resolved}: 100 × ${quote.sku} = ${quote.lineTotal} ${quote.currency}`)
