// Memory of an engine under 100,000 distinct search queries (every query a new filter range, so
// each misses the search caches): the caches are bounded in bytes, so RSS stays flat.
//   node benches/node/distinct_queries.mjs
import { Engine } from '../../bindings-node/tarif.mjs';
import { sampleDocument } from '../../bindings-node/sample.js';
import v8 from 'node:v8'; import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
const text = sampleDocument(); const doc = JSON.parse(text);
const engine = Engine.fromJson(text);
const attrs = new Map();
for (const p of doc.products) for (const [k, v] of Object.entries(p.attrs ?? {})) if (typeof v === 'number') attrs.set(k, (attrs.get(k) ?? 0) + 1);
const attr = [...attrs.entries()].sort((a, b) => b[1] - a[1])[0][0];
const accounts = doc.accounts.map((a) => a.id);
const rss = () => { gc(); return process.memoryUsage().rss / 2 ** 20; };
const q = (i) => engine.search(accounts[i % accounts.length], { filters: [{ attr, min: String(i % 1000), max: String(1000 + i) }], limit: 5 });
for (let i = 0; i < 1000; i++) q(i);
const base = rss(); const marks = [];
const t0 = performance.now();
for (let i = 0; i < 100_000; i++) { q(i); if ((i + 1) % 25_000 === 0) marks.push(rss().toFixed(0)); }
console.log(`attr ${attr}: RSS after 1k warm-up ${base.toFixed(0)} MiB; after 25k/50k/75k/100k distinct queries: ${marks.join(' / ')} MiB; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
