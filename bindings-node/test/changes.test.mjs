// engine.apply(changes), engine.diff(other) and EngineHandle.apply: the ERP sync loop from Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AT, Engine, EngineHandle, smallDocument } from './helpers.mjs';

const base = Engine.fromJson(JSON.stringify(smallDocument()));
const line = { account: 'RETAIL', sku: 'DR-18V-01', qty: 1, at: AT };
const raise = (price) => ({
  format: 'tarif/1-changes',
  upsert: { prices: [{ list: 'list-eur', sku: 'DR-18V-01', price }] },
});

test('apply resolves to a new engine equal to compiling the merged document', async () => {
  const next = await base.apply(raise('139.00'));
  assert.equal(next.quote(line).unitPrice, '139.00');
  assert.equal(base.quote(line).unitPrice, '129.00');
  const merged = smallDocument();
  merged.price_lists[0].prices[0] = { sku: 'DR-18V-01', price: '139.00' };
  assert.equal(next.engineVersion, Engine.fromJson(JSON.stringify(merged)).engineVersion);
  // JSON text works as well as an object.
  const again = await base.apply(JSON.stringify(raise('139.00')));
  assert.equal(again.engineVersion, next.engineVersion);
});

test('a rejected change lists every problem with its path in the changes', async () => {
  const err = await base
    .apply({
      format: 'tarif/1-changes',
      upsert: { products: [{ sku: 'N', cost: 'x' }], prices: [{ list: 'list-eur', sku: 'N', price: '1O' }] },
      delete: { accounts: ['NOPE'] },
    })
    .then(() => assert.fail('expected a rejection'), (e) => e);
  assert.equal(err.code, 'COMPILE_ERROR');
  assert.deepEqual(
    err.details.map((d) => [d.code, d.path]),
    [['UNKNOWN_ID', 'delete.accounts[0]']],
  );
  const compile = await base
    .apply({ format: 'tarif/1-changes', upsert: { products: [{ sku: 'N', cost: 'x' }] } })
    .then(() => assert.fail('expected a rejection'), (e) => e);
  assert.deepEqual(compile.details.map((d) => [d.code, d.path]), [['INVALID_DECIMAL', 'upsert.products[0].cost']]);
  const bad = await base.apply(42).then(() => assert.fail('expected a rejection'), (e) => e);
  assert.equal(bad.code, 'INVALID_TYPE');
});

test('diff lists the entities a change touched', async () => {
  const next = await base.apply({
    format: 'tarif/1-changes',
    upsert: { prices: [{ list: 'list-eur', sku: 'DR-18V-01', price: '139.00' }], products: [{ sku: 'NEW-1' }] },
    delete: { prices: [{ list: 'acme-net', sku: 'BAT-18V-4AH' }] },
  });
  assert.deepEqual(await base.diff(next), [
    { section: 'products', id: 'NEW-1', kind: 'added' },
    { section: 'prices', parent: 'acme-net', id: 'BAT-18V-4AH', kind: 'removed' },
    { section: 'prices', parent: 'list-eur', id: 'DR-18V-01', kind: 'modified' },
  ]);
  assert.deepEqual(await base.diff(base), []);
});

test('the handle applies changes one after another while readers never see a mixed answer', async () => {
  const handle = new EngineHandle(base);
  const prices = ['139.00', '149.00', '159.00', '169.00'];
  const seen = new Map([[base.engineVersion, '129.00']]);
  let reading = true;
  const readers = Promise.all(
    [0, 1, 2].map(async () => {
      const answers = [];
      while (reading) {
        answers.push(handle.quote(line));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return answers;
    }),
  );
  // Started together: each applies to the engine the previous one produced.
  const engines = await Promise.all(prices.map((p) => handle.apply(raise(p))));
  for (const [i, engine] of engines.entries()) {
    seen.set(engine.engineVersion, engine.quote(line).unitPrice);
  }
  assert.deepEqual(new Set(engines.map((e) => e.quote(line).unitPrice)), new Set(prices));
  // Concurrent changes apply one at a time in no set order (await each for call order): the
  // handle serves whichever applied last, one of them, never the base or a mix.
  assert.ok(engines.some((e) => e.engineVersion === handle.engineVersion));
  const versions = new Set([base.engineVersion, ...engines.map((e) => e.engineVersion)]);
  assert.equal(versions.size, 5);
  // A failed change keeps the current engine serving.
  const current = handle.engineVersion;
  await assert.rejects(handle.apply({ format: 'tarif/1-changes', delete: { products: ['NOPE'] } }), { code: 'COMPILE_ERROR' });
  assert.equal(handle.engineVersion, current);
  reading = false;
  for (const answers of await readers) {
    for (const quote of answers) {
      assert.equal(seen.get(quote.engineVersion), quote.unitPrice);
    }
  }
});

test('a change during which the engine was swapped is rejected, not stored over the swap', async () => {
  const handle = new EngineHandle(base);
  const other = Engine.fromJson(JSON.stringify(smallDocument({ drillPrice: '99.00' })));
  const pending = handle.apply(raise('139.00'));
  handle.swap(other);
  const outcome = await pending.then(
    () => 'applied',
    (e) => e.details[0].code,
  );
  // A change applies to the engine served when it runs on the pool: before the swap (then
  // the swap replaces its result), after it (then it applies to `other`), or across it (then
  // it is rejected). Never is the swap undone.
  const otherChanged = await other.apply(raise('139.00'));
  if (outcome === 'VERSION_MISMATCH') {
    assert.equal(handle.engineVersion, other.engineVersion);
  } else {
    assert.equal(outcome, 'applied');
    assert.ok([other.engineVersion, otherChanged.engineVersion].includes(handle.engineVersion));
  }
});

test('a handle reloads from a snapshot as from a document', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const path = join(mkdtempSync(join(tmpdir(), 'tarif-snap-')), 'rules.snap');
  const changed = await base.apply(raise('139.00'));
  await changed.save(path);
  assert.equal(Engine.fromFile(path).engineVersion, changed.engineVersion);
  const handle = new EngineHandle(base);
  await handle.reload(path);
  assert.equal(handle.engineVersion, changed.engineVersion);
  assert.equal(handle.quote(line).unitPrice, '139.00');
});
