// A batch never freezes the event loop: during a 2M-line quoteMany, sampled by a 5 ms timer, the
// batch's own work may delay it by at most 20 ms. V8's garbage collections are measured apart
// (perf_hooks 'gc' entries): the batch's allocations can start one, but its pause is V8's and
// grows with the whole heap (here the caller's 6M input values); those stay under 250 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { AT, Engine, sampleDocument } from './helpers.mjs';

const MAX_LAG_MS = 20;
const MAX_WITH_GC_MS = 250;
const ROWS = 2_000_000;

function collectGarbage() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}

/** Runs `work` while a 5 ms timer samples how late it fires; the worst delays and GC pauses. */
async function lagDuring(work) {
  const pauses = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push([entry.startTime, entry.startTime + entry.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  const gaps = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push([last, now]);
    last = now;
  }, 5);
  const result = await work();
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  let worst = 0;
  let worstOutsideGc = 0;
  for (const [from, to] of gaps) {
    const inGc = pauses.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(to, b) - Math.max(from, a)), 0);
    worst = Math.max(worst, to - from - 5);
    worstOutsideGc = Math.max(worstOutsideGc, to - from - 5 - inGc);
  }
  return { result, worst, worstOutsideGc, samples: gaps.length };
}

test(`a ${ROWS.toLocaleString('en')}-line batch delays the event loop by at most ${MAX_LAG_MS} ms of its own`, async (t) => {
  const text = sampleDocument();
  const engine = Engine.fromJson(text);
  const accounts = JSON.parse(text).accounts.map((a) => a.id);
  const skus = engine.skus();
  const batch = { accounts: new Array(ROWS), skus: new Array(ROWS), qtys: new Array(ROWS), at: AT };
  for (let i = 0; i < ROWS; i += 1) {
    batch.accounts[i] = accounts[i % accounts.length];
    batch.skus[i] = skus[(i * 7) % skus.length];
    batch.qtys[i] = i % 10 === 0 ? `${(i % 40) + 1}.5` : (i % 40) + 1;
  }
  // Another process on the same cores only adds delay, never removes it: the batch holds the
  // loop at most as long as the best of three runs shows.
  const runs = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    collectGarbage();
    const run = await lagDuring(() => engine.quoteMany(batch));
    assert.equal(run.result.status.length, ROWS);
    assert.ok(run.result.status.includes('OK'));
    assert.ok(run.samples > 100, `the timer ran only ${run.samples} times`);
    runs.push(run);
    t.diagnostic(`${ROWS} lines: worst event-loop delay ${run.worst.toFixed(1)} ms (${run.worstOutsideGc.toFixed(1)} ms outside GC pauses), ${run.samples} samples`);
    if (run.worstOutsideGc <= MAX_LAG_MS && run.worst <= MAX_WITH_GC_MS) {
      break;
    }
  }
  const best = runs.find((r) => r.worstOutsideGc <= MAX_LAG_MS && r.worst <= MAX_WITH_GC_MS);
  const all = runs.map((r) => `${r.worstOutsideGc.toFixed(1)} ms (${r.worst.toFixed(1)} ms with GC)`).join(', ');
  assert.ok(best, `the event loop waited ${all} in ${runs.length} runs`);
});
