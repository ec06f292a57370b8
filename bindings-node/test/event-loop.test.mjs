// A batch never freezes the event loop. The JS thread's share of a big `quoteMany` (reading the
// caller's arrays, creating the answer's values) is cut into native calls of at most SLICE_ROWS
// rows with a turn of the event loop between any two of them, and the pricing runs on the libuv
// pool. This checks that structure, which holds on any machine; how long one turn then takes is
// a timing, measured by benches/node/event_loop.mjs and reported in docs/performance.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AT, SLICE_ROWS, sampleDocument, tarif } from './helpers.mjs';

const { BatchJob, Engine } = tarif;

/**
 * Runs `work` with every native read and answer of a slice logged, and a chain of immediates
 * logging each turn of the event loop (one per turn: an immediate queued by an immediate runs
 * in the next turn).
 */
async function logDuring(work) {
  const log = [];
  const spied = {};
  // `read(input, rows, signal)` and `take(rows, signal)`: where each takes its number of rows.
  for (const [name, rowsAt] of [['read', 1], ['take', 0]]) {
    const native = BatchJob.prototype[name];
    spied[name] = native;
    BatchJob.prototype[name] = function (...args) {
      log.push({ call: name, rows: args[rowsAt] });
      return native.apply(this, args);
    };
  }
  let running = true;
  const turn = () => {
    log.push({ turn: true });
    if (running) setImmediate(turn);
  };
  setImmediate(turn);
  try {
    return { result: await work(), log };
  } finally {
    running = false;
    Object.assign(BatchJob.prototype, spied);
  }
}

test('a big batch reads and answers at most one slice per turn of the event loop', async () => {
  const text = sampleDocument();
  const engine = Engine.fromJson(text);
  const accounts = JSON.parse(text).accounts.map((a) => a.id);
  const skus = engine.skus();
  const rows = 20 * SLICE_ROWS + 5;
  const batch = { accounts: [], skus: [], qtys: [], at: AT };
  for (let i = 0; i < rows; i += 1) {
    batch.accounts.push(accounts[i % accounts.length]);
    batch.skus.push(skus[(i * 7) % skus.length]);
    batch.qtys.push(i % 10 === 0 ? `${(i % 40) + 1}.5` : (i % 40) + 1);
  }
  const { result, log } = await logDuring(() => engine.quoteMany(batch));
  assert.equal(result.status.length, rows);
  assert.ok(result.status.includes('OK'));

  const calls = log.filter((e) => e.call);
  for (const { call, rows: asked } of calls) {
    assert.ok(asked <= SLICE_ROWS, `${call} asked for ${asked} rows, more than a slice (${SLICE_ROWS})`);
  }
  // Three columns of `rows` values each are read (the instant is one for the batch), and every
  // row is answered, a slice per call.
  const reads = calls.filter((e) => e.call === 'read').length;
  const takes = calls.filter((e) => e.call === 'take').length;
  assert.ok(reads >= Math.ceil((3 * rows) / SLICE_ROWS), `${reads} reads for ${rows} rows`);
  assert.ok(takes >= Math.ceil(rows / SLICE_ROWS), `${takes} takes for ${rows} rows`);
  let sinceTurn = 0;
  for (const [i, entry] of log.entries()) {
    sinceTurn = entry.turn ? 0 : sinceTurn + 1;
    assert.ok(sinceTurn <= 1, `${entry.call} (log entry ${i}) ran in the same turn of the event loop as the slice before it`);
  }
});
