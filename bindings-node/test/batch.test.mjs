// quoteMany: the core batch on the libuv pool, row for row the same as quote; abortable.
import { getEventListeners, setMaxListeners } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AT, Engine, EngineHandle, RowGate, SLICE_ROWS, sampleDocument, smallEngine } from './helpers.mjs';

const sampleText = sampleDocument();
const sample = Engine.fromJson(sampleText);
const accounts = JSON.parse(sampleText).accounts.map((a) => a.id);
const skus = sample.skus();

// mulberry32: deterministic, and its low bits are as good as its high ones. `next(m)` draws
// an integer in [0, m).
function generator(seed) {
  return (m) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % m;
  };
}

// A deterministic mix of good and bad rows.
function rows(n) {
  const next = generator(42);
  const out = { accounts: [], skus: [], qtys: [] };
  for (let i = 0; i < n; i += 1) {
    const r = next(100);
    out.accounts.push(r === 0 ? 'NOBODY' : accounts[next(accounts.length)]);
    out.skus.push(r === 1 ? 'NO-SUCH-SKU' : skus[next(skus.length)]);
    out.qtys.push(r === 2 ? 'abc' : r === 3 ? '0' : r < 50 ? next(40) + 1 : `${next(40) + 1}.5`);
  }
  return out;
}

function rowByRow(engine, batch, at, currency) {
  const out = { status: [], unitPrice: [], lineTotal: [], currency: [], buyable: [] };
  batch.accounts.forEach((account, i) => {
    const rowAt = Array.isArray(at) ? at[i] : at;
    try {
      const q = engine.quote({ account, sku: batch.skus[i], qty: batch.qtys[i], at: rowAt, currency });
      out.status.push('OK');
      out.unitPrice.push(q.unitPrice);
      out.lineTotal.push(q.lineTotal);
      out.currency.push(q.currency);
      out.buyable.push(q.buyable);
    } catch (err) {
      if (typeof err.code !== 'string') throw err;
      out.status.push(err.code);
      out.unitPrice.push(null);
      out.lineTotal.push(null);
      out.currency.push('');
      out.buyable.push(null);
    }
  });
  return out;
}

test('quoteMany equals quoting row by row', async () => {
  const batch = rows(20_000);
  const result = await sample.quoteMany({ ...batch, at: AT });
  assert.deepEqual(result, rowByRow(sample, batch, AT));
  const statuses = new Set(result.status);
  for (const code of ['OK', 'UNKNOWN_ACCOUNT', 'UNKNOWN_PRODUCT', 'INVALID_QUANTITY']) {
    assert.ok(statuses.has(code), `no ${code} row in ${[...statuses]}`);
  }
});

test('quoteMany with one instant per row and a currency', async () => {
  const batch = rows(3_000);
  const at = batch.accounts.map((_, i) => (i % 3 === 0 ? new Date(AT) : i % 3 === 1 ? '2027-03-01' : '2025-06-01T00:00:00Z'));
  const result = await sample.quoteMany({ ...batch, at, currency: 'EUR' });
  assert.deepEqual(result, rowByRow(sample, batch, at, 'EUR'));
});

test('quoteMany returns a promise and leaves the event loop free', async () => {
  const batch = rows(200_000);
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 0);
  const pending = sample.quoteMany({ ...batch, at: AT });
  assert.ok(pending instanceof Promise);
  const result = await pending;
  clearInterval(timer);
  assert.equal(result.status.length, 200_000);
  assert.ok(ticks > 0, 'the event loop never ran while the batch was priced');
});

test('an empty batch is fine', async () => {
  assert.deepEqual(await sample.quoteMany({ accounts: [], skus: [], qtys: [] }), {
    status: [], unitPrice: [], lineTotal: [], currency: [], buyable: [],
  });
});

test('malformed batches reject with codes', async () => {
  await assert.rejects(sample.quoteMany({ accounts: ['a'], skus: [], qtys: [] }), (err) => {
    assert.equal(err.code, 'INVALID_BATCH');
    assert.match(err.message, /1 accounts, 0 refs, 0 quantities/);
    return true;
  });
  await assert.rejects(
    sample.quoteMany({ accounts: ['a', 'b'], skus: ['x', 'y'], qtys: [1, 2], at: [AT] }),
    (err) => err.code === 'INVALID_BATCH',
  );
  const bad = async (input, code, pattern) => {
    let err;
    try {
      await sample.quoteMany(input);
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, code, String(err));
    assert.match(err.message, pattern);
  };
  await bad({ accounts: ['a'], skus: ['b'], qtys: [1.25] }, 'FLOAT_REJECTED', /qtys\[0\].*exact decimal/);
  await bad({ accounts: 'a', skus: ['b'], qtys: [1] }, 'INVALID_TYPE', /`accounts` must be an array/);
  await bad({ accounts: ['a', 3], skus: ['b', 'c'], qtys: [1, 1] }, 'INVALID_TYPE', /`accounts\[1\]` must be a string/);
  await bad({ accounts: ['a'], skus: ['b'] }, 'INVALID_TYPE', /qtys/);
  await bad({ accounts: ['a'], skus: ['b'], qtys: [1], at: [new Date(Number.NaN)] }, 'INVALID_TYPE', /at\[0\]/);
  await assert.rejects(
    sample.quoteMany({ accounts: ['a'], skus: ['b'], qtys: [1], at: 'soon' }),
    (err) => err.code === 'INVALID_INSTANT',
  );
});

test('several bad inputs report the one Python reports', async () => {
  // Columns first (accounts, skus, qtys), then the instant, then the currency: Python's
  // quote_many reads a batch in this order too (bindings-python/tests/test_batch.py).
  const bad = async (input, code, pattern) => {
    await assert.rejects(sample.quoteMany(input), (err) => {
      assert.equal(err.code, code, String(err));
      assert.match(err.message, pattern);
      return true;
    });
  };
  await bad({ accounts: ['ACME', 7], skus: ['DR-1', 'DR-1'], qtys: [1, 1], at: 'soon', currency: 42 }, 'INVALID_TYPE', /accounts\[1\]/);
  await bad({ accounts: ['ACME'], skus: ['DR-1'], qtys: [1.5], at: 'soon', currency: 42 }, 'FLOAT_REJECTED', /qtys\[0\]/);
  await bad({ accounts: ['ACME'], skus: ['DR-1'], qtys: [1], at: 'soon', currency: 42 }, 'INVALID_INSTANT', /soon/);
  await bad({ accounts: ['ACME'], skus: ['DR-1'], qtys: [1], at: AT, currency: 42 }, 'INVALID_TYPE', /currency/);
});

test('an already aborted signal rejects with AbortError', async () => {
  const batch = rows(10);
  await assert.rejects(sample.quoteMany({ ...batch, at: AT }, AbortSignal.abort()), (err) => {
    assert.equal(err.name, 'AbortError');
    assert.equal(err.code, 'ABORT_ERR');
    return true;
  });
});

test('aborting stops a running million-line batch', async () => {
  const small = rows(1000);
  const batch = { accounts: [], skus: [], qtys: [] };
  for (let i = 0; i < 1000; i += 1) {
    batch.accounts.push(...small.accounts);
    batch.skus.push(...small.skus);
    batch.qtys.push(...small.qtys);
  }
  const controller = new AbortController();
  const pending = sample.quoteMany({ ...batch, at: AT }, controller.signal);
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  // The signal did not poison the engine.
  const after = await sample.quoteMany({ ...small, at: AT }, new AbortController().signal);
  assert.equal(after.status.length, 1000);
});

test('a signal that never fires changes nothing', async () => {
  const batch = rows(100);
  const controller = new AbortController();
  assert.deepEqual(await sample.quoteMany({ ...batch, at: AT }, controller.signal), await sample.quoteMany({ ...batch, at: AT }));
});

test('a signal must be an AbortSignal', async () => {
  await assert.rejects(sample.quoteMany({ ...rows(3), at: AT }, {}), { code: 'INVALID_TYPE' });
  assert.throws(() => Engine.load('rules.json', {}, { aborted: false }), { code: 'INVALID_TYPE' });
});

test('a long-lived signal does not collect listeners', async () => {
  const controller = new AbortController();
  // 30 calls in flight at once hold 30 listeners: more than Node's warning threshold.
  setMaxListeners(40, controller.signal);
  const batch = { ...rows(10), at: AT };
  for (let i = 0; i < 30; i += 1) await sample.quoteMany(batch, controller.signal);
  await Promise.all(Array.from({ length: 30 }, () => sample.quoteMany(batch, controller.signal)));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('Engine.load is abortable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarif-'));
  const path = join(dir, 'sample.json');
  writeFileSync(path, sampleText);
  await assert.rejects(Engine.load(path, {}, AbortSignal.abort()), { name: 'AbortError' });
  const controller = new AbortController();
  const pending = Engine.load(path, undefined, controller.signal);
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal((await Engine.load(path)).engineVersion, sample.engineVersion);
});

test('many batches in flight at once', async () => {
  const engine = smallEngine();
  const batch = { accounts: ['ACME', 'RETAIL'], skus: ['DR-18V-01', 'DR-18V-01'], qtys: [1, 1], at: AT };
  const results = await Promise.all(Array.from({ length: 50 }, () => engine.quoteMany(batch)));
  for (const r of results) assert.deepEqual(r.unitPrice, ['116.10', '129.00']);
});

// One batch mixing every scale and magnitude: each row is exactly its own quote (the Python
// binding once shifted wide amounts by powers of ten when a fine-scaled row shared the batch).
test('quoteMany is exact on random scales and magnitudes', async () => {
  const next = generator(7);
  const digits = (n) => Array.from({ length: n }, () => String(next(10))).join('');
  // A decimal of random magnitude and scale that a Decimal holds (at most 28 digits).
  const decimal = (maxInt, maxScale) => {
    const scale = next(maxScale + 1);
    const whole = `${next(9) + 1}${digits(next(Math.min(maxInt, 28 - scale)))}`;
    return scale ? `${whole}.${digits(scale)}` : whole;
  };
  for (let round = 0; round < 40; round += 1) {
    const prices = Array.from({ length: next(4) + 1 }, () => decimal(28, 4));
    const engine = Engine.fromJson(JSON.stringify({
      format: 'tarif/1',
      settings: { default_price_lists: ['list'] },
      currencies: [{ code: 'EUR', scale: 2 }],
      products: prices.map((_, i) => ({ sku: `P${i}` })),
      price_lists: [{ id: 'list', currency: 'EUR', prices: prices.map((price, i) => ({ sku: `P${i}`, price })) }],
      accounts: [{ id: 'A' }],
    }));
    const n = next(12) + 1;
    const batch = { accounts: [], skus: [], qtys: [] };
    for (let i = 0; i < n; i += 1) {
      batch.accounts.push('A');
      batch.skus.push(`P${next(prices.length)}`);
      batch.qtys.push(decimal(28, 24));
    }
    batch.skus[0] = 'P0';
    batch.qtys[0] = '0.0000000000000000000001';
    const result = await engine.quoteMany({ ...batch, at: AT });
    assert.deepEqual(result, rowByRow(engine, batch, AT));
  }
});

// Batches bigger than a slice are read and answered a slice at a time (batch.cjs): every
// answer and every rejection must be the one an unsliced read gives.


test('a sliced batch equals row by row, with per-row instants and a currency', async () => {
  const batch = rows(3 * SLICE_ROWS + 17);
  const at = batch.accounts.map((_, i) => (i % 3 === 0 ? new Date(AT) : i % 3 === 1 ? '2027-03-01' : '2025-06-01T00:00:00Z'));
  assert.deepEqual(await sample.quoteMany({ ...batch, at, currency: 'EUR' }), rowByRow(sample, batch, at, 'EUR'));
});

test('a sliced batch keeps every amount exactly as written, scale included', async () => {
  const engine = Engine.fromJson(JSON.stringify({
    format: 'tarif/1',
    settings: { default_price_lists: ['list'] },
    currencies: [{ code: 'EUR', scale: 2 }],
    products: [{ sku: 'P' }],
    price_lists: [{ id: 'list', currency: 'EUR', prices: [{ sku: 'P', price: '1.5' }] }],
    accounts: [{ id: 'A' }],
  }));
  const n = 2 * SLICE_ROWS + 3;
  const batch = { accounts: Array(n).fill('A'), skus: Array(n).fill('P'), qtys: [] };
  for (let i = 0; i < n; i += 1) batch.qtys.push(['2', '2.0', '2.00', '0.000001', '79228162514264337593543950'][i % 5]);
  const result = await engine.quoteMany({ ...batch, at: AT });
  assert.deepEqual(result, rowByRow(engine, batch, AT));
  assert.deepEqual(new Set(result.lineTotal.slice(0, 5)).size, 5);
});

test('a sliced batch rejects exactly as an unsliced one', async () => {
  const n = 2 * SLICE_ROWS + 5;
  const good = () => ({ accounts: Array(n).fill('ACME'), skus: Array(n).fill('X'), qtys: Array(n).fill(1) });
  const rejects = async (input, code, pattern) => {
    await assert.rejects(sample.quoteMany(input), (err) => {
      assert.equal(err.code, code, String(err));
      assert.match(err.message, pattern);
      return true;
    });
  };
  const late = good();
  late.qtys[n - 1] = 1.5;
  late.accounts[n - 2] = 7;
  // Columns are read in order (accounts, skus, qtys, at), so the account is reported first.
  await rejects(late, 'INVALID_TYPE', new RegExp(`accounts\\[${n - 2}\\]`));
  const float = good();
  float.qtys[n - 1] = 1.5;
  await rejects(float, 'FLOAT_REJECTED', new RegExp(`qtys\\[${n - 1}\\]`));
  const mismatch = good();
  mismatch.skus.pop();
  await rejects(mismatch, 'INVALID_BATCH', new RegExp(`${n} accounts, ${n - 1} refs`));
  const instants = { ...good(), at: Array(n).fill(AT) };
  instants.at[n - 1] = 'soon';
  instants.at[n - 3] = 42;
  // A wrong type anywhere in `at` wins over an unparsable instant before it.
  await rejects(instants, 'INVALID_TYPE', new RegExp(`at\\[${n - 3}\\]`));
  instants.at[n - 3] = AT;
  await rejects(instants, 'INVALID_INSTANT', /soon/);
  await rejects({ ...good(), at: AT, currency: 42 }, 'INVALID_TYPE', /currency/);
});

test('aborting a sliced batch while it is read or answered rejects with AbortError', async () => {
  const batch = { ...rows(4 * SLICE_ROWS), at: AT };
  for (const delay of [0, 1, 5, 20]) {
    const controller = new AbortController();
    const pending = sample.quoteMany(batch, controller.signal);
    setTimeout(() => controller.abort(), delay);
    await pending.then(
      (result) => assert.equal(result.status.length, batch.accounts.length),
      (err) => assert.equal(err.name, 'AbortError'),
    );
  }
});

test('a sliced batch on an EngineHandle is priced by the engine current when it was called', async () => {
  const handle = new EngineHandle(smallEngine());
  const n = 3 * SLICE_ROWS;
  const batch = { accounts: Array(n).fill('RETAIL'), skus: Array(n).fill('DR-18V-01'), qtys: Array(n).fill(1), at: AT };
  const pending = handle.quoteMany(batch);
  handle.swap(smallEngine({ drillPrice: '200.00' }));
  const before = await pending;
  assert.deepEqual(new Set(before.unitPrice), new Set(['129.00']));
  const after = await handle.quoteMany(batch);
  assert.deepEqual(new Set(after.unitPrice), new Set(['200.00']));
});

test('big batches in flight at once all finish, each equal to its own run', async () => {
  const batch = { ...rows(SLICE_ROWS + 1), at: AT };
  const alone = await sample.quoteMany(batch);
  const results = await Promise.all(Array.from({ length: 24 }, () => sample.quoteMany(batch)));
  for (const r of results) assert.deepEqual(r, alone);
});

test('batches queue, first come first served, once the rows in flight reach the budget', async () => {
  const gate = new RowGate(100);
  const log = [];
  const releases = [];
  const job = (name, rows) =>
    gate.run(rows, () => {
      log.push(`start ${name} (${gate.inFlight} rows in flight)`);
      return new Promise((resolve) => releases.push(() => { log.push(`end ${name}`); resolve(name); }));
    });
  const a = job('a', 60);
  const b = job('b', 60);   // does not fit beside a
  const c = job('c', 10);   // would fit, but b came first
  assert.deepEqual(log, ['start a (60 rows in flight)']);
  releases.shift()();
  await a;
  await new Promise(setImmediate);
  assert.deepEqual(log.slice(1), ['end a', 'start b (70 rows in flight)', 'start c (70 rows in flight)']);
  const big = job('big', 500); // bigger than the budget: runs once nothing else does
  releases.shift()();
  releases.shift()();
  await Promise.all([b, c]);
  await new Promise(setImmediate);
  assert.equal(log.at(-1), 'start big (500 rows in flight)');
  releases.shift()();
  assert.equal(await big, 'big');
  assert.equal(gate.inFlight, 0);
  // A failing batch frees its rows too.
  await assert.rejects(gate.run(100, () => { throw new Error('no'); }), /no/);
  assert.equal(gate.inFlight, 0);
});
