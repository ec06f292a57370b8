// Many calls in flight on an EngineHandle whose engine is swapped again and again: no crash,
// every answer entirely from one engine (never a mix of two versions), and memory that comes
// back to its level once the work is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { AT, Engine, EngineHandle, SLICE_ROWS, smallDocument } from './helpers.mjs';

/** The small document with every price scaled: each answer tells which engine gave it. */
function scaled(factor) {
  const doc = smallDocument();
  for (const list of doc.price_lists) {
    for (const entry of list.prices) {
      entry.price = (Number(entry.price) * factor).toFixed(2);
      for (const tier of entry.tiers ?? []) tier.price = (Number(tier.price) * factor).toFixed(2);
    }
  }
  return Engine.fromJson(JSON.stringify(doc));
}

const engines = [scaled(1), scaled(3)];
const accounts = ['ACME', 'ACME-LYON', 'RETAIL'];
const skus = ['DR-18V-01', 'BAT-18V-4AH', 'EUR-ONLY', 'ACME-4711', '3401234567890'];
const rows = SLICE_ROWS + 100;
const batch = {
  accounts: Array.from({ length: rows }, (_, i) => accounts[i % accounts.length]),
  skus: Array.from({ length: rows }, (_, i) => skus[i % skus.length]),
  qtys: Array.from({ length: rows }, (_, i) => 2 + (i % 12) * 2),
  at: AT,
};
const query = { priceQty: '2', limit: 10 };
const expected = await Promise.all(
  engines.map(async (engine) => ({
    quote: engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT }),
    search: engine.search('ACME', query, AT),
    batch: await engine.quoteMany(batch),
  })),
);
assert.notDeepEqual(expected[0].batch.unitPrice, expected[1].batch.unitPrice);

/** Which engine gave `answer` for `kind`, or a failure if it matches neither whole. */
function whose(kind, answer) {
  const index = expected.findIndex((e) => {
    try {
      assert.deepEqual(answer, e[kind]);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(index >= 0, `a ${kind} answer matches neither engine: it mixes two versions`);
  return index;
}

async function round(handle, seconds) {
  const seen = new Set();
  let swaps = 0;
  const swapper = setInterval(() => {
    handle.swap(engines[swaps % 2]);
    swaps += 1;
  }, 1);
  const until = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      const pending = handle.quoteMany(batch);
      seen.add(`quote ${whose('quote', handle.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT }))}`);
      seen.add(`search ${whose('search', handle.search('ACME', query, AT))}`);
      seen.add(`batch ${whose('batch', await pending)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  clearInterval(swapper);
  return { seen, swaps };
}

function residentAfterGc() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
  return process.memoryUsage().rss;
}

test('calls on a handle swapped every millisecond each answer from one engine, and memory settles', async (t) => {
  const handle = new EngineHandle(engines[0]);
  const warm = await round(handle, 2);
  assert.ok(warm.swaps > 50, `only ${warm.swaps} swaps`);
  const before = residentAfterGc();
  const { seen, swaps } = await round(handle, 3);
  const after = residentAfterGc();
  t.diagnostic(`${swaps} swaps; answers from ${[...seen].sort().join(', ')}; RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB`);
  // Both engines answered each kind of call: the swaps did land in the middle of the work.
  for (const kind of ['quote', 'search', 'batch']) {
    assert.ok(seen.has(`${kind} 0`) && seen.has(`${kind} 1`), `${kind}: ${[...seen]}`);
  }
  assert.ok(after - before < 64 * 2 ** 20, `RSS grew by ${((after - before) / 2 ** 20).toFixed(0)} MiB over a round`);
});
