// Tarif via Node, the Node peer of benches/peers/compare.py: compiles a data set's
// `rules-subset.json`, quotes its first order lines one by one with the synchronous `quote`, and
// prints one JSON report in compare.py's shape (point latencies and the checksum of the line
// totals in cents, which compare.py checks against Tarif's own).
//
//   node benches/node/points.mjs --data bench-data/medium [--points 10000] [--at 2026-06-01T10:00:00Z]
//
// Needs the release addon (`cd bindings-node && npm ci && npm run build`). The timed call is the
// one a service makes: build the input object, quote, read `lineTotal` as cents; the Python
// peers time the same (`int(quote(...).line_total * 100)` and the dict's integer cents).
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Engine } = require('../../bindings-node/tarif.cjs');

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    points: { type: 'string', default: '10000' },
    at: { type: 'string', default: '2026-06-01T10:00:00Z' },
  },
});
if (!values.data) throw new Error('--data is required');
const POINTS = Number(values.points);

// The first `n` lines of an `orders.csv` (`account,sku,qty,date` under a header), read a block
// at a time: the reference file is 300 MB and only its head is needed.
function firstLines(path, n) {
  const fd = openSync(path, 'r');
  const block = Buffer.alloc(1 << 20);
  let text = '';
  let lines = [];
  try {
    for (;;) {
      const read = readSync(fd, block, 0, block.length, null);
      text += block.toString('utf8', 0, read);
      lines = text.split('\n');
      if (read === 0 || lines.length > n + 1) break;
    }
  } finally {
    closeSync(fd);
  }
  return lines
    .slice(1, n + 1)
    .filter((line) => line !== '')
    .map((line) => {
      const [account, sku, qty] = line.split(',');
      return { account, sku, qty };
    });
}

// Exact cents of a decimal string; a total with a fraction of a cent is an error, not rounded.
function cents(total) {
  const [whole, fraction = ''] = total.split('.');
  if (/[1-9]/.test(fraction.slice(2))) throw new Error(`${total} is not a whole number of cents`);
  const sign = whole.startsWith('-') ? -1n : 1n;
  const hundredths = BigInt(fraction.slice(0, 2).padEnd(2, '0'));
  return BigInt(whole) * 100n + sign * hundredths;
}

const engine = Engine.fromFile(join(values.data, 'rules-subset.json'));
const rows = firstLines(join(values.data, 'orders.csv'), POINTS);
const latencies = [];
let sum = 0n;
for (const { account, sku, qty } of rows) {
  const start = process.hrtime.bigint();
  const total = cents(engine.quote({ account, sku, qty, at: values.at }).lineTotal);
  latencies.push(Number(process.hrtime.bigint() - start));
  sum += total;
}
latencies.sort((a, b) => a - b);
const percentile = (p) => latencies[Math.min(Math.floor(latencies.length * p), latencies.length - 1)];
console.log(
  JSON.stringify({
    point_rows: rows.length,
    engine: 'Tarif via Node',
    lines: null,
    checksum_cents: null,
    batch_median_s: null,
    batch_runs_s: null,
    point_p50_ns: percentile(0.5),
    point_p99_ns: percentile(0.99),
    point_checksum_cents: String(sum),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }),
);
