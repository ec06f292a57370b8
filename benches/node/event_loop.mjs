// How long a big `quoteMany` holds Node's event loop: during a 2M-line batch on the sample
// document, a 5 ms `setInterval` samples how late it fires. V8's garbage-collection pauses are
// measured apart (perf_hooks 'gc' entries): the batch's allocations can start one, but its pause
// is V8's and grows with the caller's whole heap (here the 6M input values), not with the batch.
//
//   node benches/node/event_loop.mjs [--rows 2000000] [--runs 5]
//
// Needs the release addon: `cd bindings-node && npm ci && npm run build`. The garbage made while
// building the input is collected before each run, so that its collection does not land inside
// the batch. Another process on the same cores only adds delay: the medians say what the batch
// costs, the worst run what a loaded machine saw.
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';

const require = createRequire(import.meta.url);
const { Engine } = require('../../bindings-node/tarif.cjs');
const { sampleDocument } = require('../../bindings-node/sample.js');

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '5' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const AT = '2026-06-01T00:00:00Z';
const PERIOD_MS = 5;

function collectGarbage() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}

/** Runs `work` while a timer samples how late it fires: the worst delay, with and without GC. */
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
  }, PERIOD_MS);
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  // The observer reports a pause after it ends: give the last one a turn to arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  let worst = 0;
  let worstOutsideGc = 0;
  for (const [from, to] of gaps) {
    const inGc = pauses.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(to, b) - Math.max(from, a)), 0);
    worst = Math.max(worst, to - from - PERIOD_MS);
    worstOutsideGc = Math.max(worstOutsideGc, to - from - PERIOD_MS - inGc);
  }
  return { result, seconds, worst, worstOutsideGc, samples: gaps.length };
}

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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

const runs = [];
for (let run = 0; run < RUNS; run += 1) {
  collectGarbage();
  const r = await lagDuring(() => engine.quoteMany(batch));
  if (r.result.status.length !== ROWS) throw new Error(`${r.result.status.length} rows answered of ${ROWS}`);
  runs.push(r);
  console.log(
    `run ${run + 1}: batch ${r.seconds.toFixed(2)} s, worst delay ${r.worst.toFixed(1)} ms ` +
      `(${r.worstOutsideGc.toFixed(1)} ms outside GC pauses), ${r.samples} samples`,
  );
}
console.log(JSON.stringify({
  rows: ROWS,
  runs: RUNS,
  batch_s_median: median(runs.map((r) => r.seconds)),
  worst_delay_ms_median: median(runs.map((r) => r.worst)),
  worst_delay_outside_gc_ms_median: median(runs.map((r) => r.worstOutsideGc)),
  worst_delay_outside_gc_ms_max: Math.max(...runs.map((r) => r.worstOutsideGc)),
}));
