// Node binding benchmark: synchronous `quote` latency and `quoteMany` throughput on 1M lines,
// each against a plain JS `Map` holding precomputed answers for the same lines, in the same run.
//
//   node benches/node/bench_quote.mjs [--lines 1000000] [--calls 200000]
//
// Needs the release addon: `cd bindings-node && npm ci && npm run build`. Medians, not means:
// the machine is shared. The Map is the floor a service could hope for (no pricing at all); the
// ratio says what exact, explainable prices cost on top of it.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Engine } = require('../../bindings-node/tarif.cjs');
const { sampleDocument } = require('../../bindings-node/sample.js');

const { values } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, calls: { type: 'string', default: '200000' } },
});
const LINES = Number(values.lines);
const CALLS = Number(values.calls);
const CHUNK = 1000;
const AT = '2026-06-01T00:00:00Z';

const text = sampleDocument();
const engine = Engine.fromJson(text);
const accounts = JSON.parse(text).accounts.map((a) => a.id);
const skus = engine.skus();

// Deterministic lines that price successfully, so both sides do the same work.
let seed = 7;
const next = (m) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % m;
};
const distinct = [];
while (distinct.length < 10_000) {
  const line = { account: accounts[next(accounts.length)], sku: skus[next(skus.length)], qty: String(next(20) + 1), at: AT };
  try {
    engine.quote(line);
    distinct.push(line);
  } catch {
    // hidden, unpriced or not orderable in that quantity: not a line to time
  }
}
const key = (l) => `${l.account}\u0000${l.sku}\u0000${l.qty}`;
const answers = new Map(distinct.map((l) => {
  const q = engine.quote(l);
  return [key(l), { unitPrice: q.unitPrice, lineTotal: q.lineTotal, currency: q.currency }];
}));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

// Per-call time: calls are timed in chunks (a single call is below the clock's resolution), the
// median chunk wins.
function latency(fn) {
  const perCall = [];
  let sink = 0;
  for (let done = 0; done < CALLS; done += CHUNK) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i += 1) sink += fn(distinct[(done + i) % distinct.length]) ? 1 : 0;
    perCall.push(Number(process.hrtime.bigint() - start) / CHUNK);
  }
  if (sink < 0) console.log(sink);
  return median(perCall);
}

const quoteNs = latency((l) => engine.quote(l));
const mapNs = latency((l) => answers.get(key(l)));

const columns = { accounts: [], skus: [], qtys: [], at: AT };
for (let i = 0; i < LINES; i += 1) {
  const l = distinct[i % distinct.length];
  columns.accounts.push(l.account);
  columns.skus.push(l.sku);
  columns.qtys.push(l.qty);
}

async function throughput(run) {
  const seconds = [];
  for (let round = 0; round < 3; round += 1) {
    const start = process.hrtime.bigint();
    const out = await run();
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (out.status.length !== LINES) throw new Error('short batch');
  }
  return LINES / median(seconds);
}

const batchRate = await throughput(() => engine.quoteMany(columns));
const mapRate = await throughput(async () => {
  const out = { status: [], unitPrice: [], lineTotal: [], currency: [] };
  for (let i = 0; i < LINES; i += 1) {
    const a = answers.get(`${columns.accounts[i]}\u0000${columns.skus[i]}\u0000${columns.qtys[i]}`);
    out.status.push(a ? 'OK' : 'UNKNOWN_PRODUCT');
    out.unitPrice.push(a ? a.unitPrice : '0');
    out.lineTotal.push(a ? a.lineTotal : '0');
    out.currency.push(a ? a.currency : '');
  }
  return out;
});

const us = (ns) => `${(ns / 1000).toFixed(3)} µs`;
const rate = (r) => `${(r / 1e6).toFixed(2)} M lines/s`;
const rows = [
  ['what', 'tarif (Node binding)', 'JS Map of precomputed answers', 'ratio'],
  ['sync quote, median per call', us(quoteNs), us(mapNs), `${(quoteNs / mapNs).toFixed(1)}×`],
  [`quoteMany, ${LINES.toLocaleString('en')} lines (median of 3)`, rate(batchRate), rate(mapRate), `${(mapRate / batchRate).toFixed(1)}×`],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`sample distributor: ${skus.length} products, ${accounts.length} accounts; ${distinct.length} distinct lines; node ${process.version}`);
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
