// EngineHandle: atomic hot swap. Calls in flight finish on the engine they started on, new calls
// see the new one, a failed reload changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { AT, Engine, EngineHandle, smallDocument } from './helpers.mjs';

const dir = mkdtempSync(join(tmpdir(), 'tarif-handle-'));
const file = (name, text) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const oldPath = file('old.json', JSON.stringify(smallDocument({ drillPrice: '129.00' })));
const newPath = file('new.json', JSON.stringify(smallDocument({ drillPrice: '99.00' })));
const badPath = file('bad.json', JSON.stringify({ ...smallDocument(), bogus: 1 }));
const oldEngine = Engine.fromFile(oldPath);
const newEngine = Engine.fromFile(newPath);
const priceOf = { [oldEngine.engineVersion]: '129.00', [newEngine.engineVersion]: '99.00' };
const line = { account: 'RETAIL', sku: 'DR-18V-01', qty: 1, at: AT };

test('swap replaces the engine and returns the previous one', () => {
  const handle = new EngineHandle(oldEngine);
  assert.equal(handle.engineVersion, oldEngine.engineVersion);
  assert.equal(handle.quote(line).unitPrice, '129.00');
  const previous = handle.swap(newEngine);
  assert.equal(previous.engineVersion, oldEngine.engineVersion);
  assert.equal(handle.current().engineVersion, newEngine.engineVersion);
  assert.equal(handle.quote(line).unitPrice, '99.00');
  assert.deepEqual(handle.visibility(line), { see: true, price: true, buy: true });
  assert.equal(handle.lookup({ account: 'RETAIL', ref: '3401234567890' }), 'DR-18V-01');
  assert.equal(handle.explain(line).outcome.unitPrice, '99.00');
  assert.deepEqual(handle.skus(), newEngine.skus());
  assert.deepEqual(handle.diagnostics(), newEngine.diagnostics());
  // The previous engine still works for whoever holds it.
  assert.equal(previous.quote(line).unitPrice, '129.00');
});

test('reload compiles in the background, then swaps', async () => {
  const handle = new EngineHandle(oldEngine);
  const pending = handle.reload(newPath);
  assert.equal(handle.quote(line).unitPrice, '129.00', 'nothing changes before the load is done');
  const loaded = await pending;
  assert.equal(loaded.engineVersion, newEngine.engineVersion);
  assert.equal(handle.engineVersion, newEngine.engineVersion);
  assert.equal(handle.quote(line).unitPrice, '99.00');
});

test('a failed reload rejects and keeps the current engine', async () => {
  const handle = new EngineHandle(oldEngine);
  await assert.rejects(handle.reload(badPath), (err) => err.code === 'COMPILE_ERROR' && err.details.length > 0);
  await assert.rejects(handle.reload(join(dir, 'missing.json')), { code: 'IO_ERROR' });
  await assert.rejects(handle.reload(newPath, { strict: false }, AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(handle.engineVersion, oldEngine.engineVersion);
  assert.equal(handle.quote(line).unitPrice, '129.00');
});

test('a batch in flight finishes on the engine it started on', async () => {
  const handle = new EngineHandle(oldEngine);
  const n = 200_000;
  const batch = { accounts: Array(n).fill('RETAIL'), skus: Array(n).fill('DR-18V-01'), qtys: Array(n).fill(1), at: AT };
  const inFlight = handle.quoteMany(batch);
  handle.swap(newEngine);
  const after = handle.quoteMany(batch);
  const [before, later] = await Promise.all([inFlight, after]);
  assert.ok(before.unitPrice.every((p) => p === '129.00'));
  assert.ok(later.unitPrice.every((p) => p === '99.00'));
});

test('hot swaps under concurrent calls: every answer comes from one whole engine', async () => {
  const handle = new EngineHandle(oldEngine);
  const n = 5_000;
  const batch = { accounts: Array(n).fill('RETAIL'), skus: Array(n).fill('DR-18V-01'), qtys: Array(n).fill(1), at: AT };
  let stop = false;
  let quotes = 0;
  const seen = new Set();
  const quoting = (async () => {
    while (!stop) {
      for (let i = 0; i < 50; i += 1) {
        const q = handle.quote(line);
        assert.equal(q.unitPrice, priceOf[q.engineVersion]);
        seen.add(q.engineVersion);
        quotes += 1;
      }
      await tick();
    }
  })();
  const batches = [];
  for (let round = 0; round < 20; round += 1) {
    batches.push(handle.quoteMany(batch));
    await handle.reload(round % 2 === 0 ? newPath : oldPath);
    if (round % 5 === 4) await assert.rejects(handle.reload(badPath), { code: 'COMPILE_ERROR' });
  }
  stop = true;
  await quoting;
  for (const result of await Promise.all(batches)) {
    assert.equal(new Set(result.unitPrice).size, 1, 'a batch mixed two engines');
  }
  assert.equal(handle.engineVersion, oldEngine.engineVersion);
  assert.ok(quotes > 0);
  assert.equal(seen.size, 2, 'the quotes saw both engines');
});
