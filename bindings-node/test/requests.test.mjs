// The request fixtures (tests/fixtures/requests/, format in tests/fixtures/README.md): bad values
// of every kind for every query get the same codes here as in Rust and Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from './helpers.mjs';

const root = fileURLToPath(new URL('../../tests/fixtures/requests/', import.meta.url));
// Fewer than this means the fixtures went missing, not that they pass.
const MIN_REQUESTS = 150;
const OPS = ['quote', 'explain', 'visibility', 'lookup', 'search', 'related', 'quote_many'];
// The fixtures name search options as Python keywords; this binding takes them in camelCase.
const CAMEL = { group_variants: 'groupVariants', price_qty: 'priceQty', any_of: 'anyOf', in_stock: 'inStock' };

// A fixture value as the JavaScript value it stands for.
function value(v) {
  if (Array.isArray(v)) return v.map(value);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$bigint') return BigInt(v.$bigint);
    // Code units, so that a lone surrogate survives.
    if (keys.length === 1 && keys[0] === '$utf16') return String.fromCharCode(...v.$utf16);
    return Object.fromEntries(keys.map((k) => [CAMEL[k] ?? k, value(v[k])]));
  }
  return v;
}

// The arguments the fixture gives, absent ones left out.
function pick(args, names) {
  return Object.fromEntries(names.filter((n) => n in args).map((n) => [n === 'ref' ? 'sku' : n, value(args[n])]));
}

async function call(engine, op, args) {
  switch (op) {
    case 'quote':
      engine.quote(pick(args, ['account', 'ref', 'qty', 'at', 'currency']));
      return { ok: true };
    case 'explain': {
      const e = engine.explain(pick(args, ['account', 'ref', 'qty', 'at', 'currency']));
      return e.outcome.ok ? { ok: true } : { ok: true, outcome: e.outcome.code };
    }
    case 'visibility':
      engine.visibility(pick(args, ['account', 'ref', 'at']));
      return { ok: true };
    case 'lookup': {
      const { sku: ref, ...rest } = pick(args, ['account', 'ref', 'at']);
      engine.lookup({ ...rest, ref });
      return { ok: true };
    }
    case 'related':
      engine.related(value(args.account), value(args.ref), value(args.kind), value(args.at));
      return { ok: true };
    case 'search': {
      const page = engine.search(value(args.account), value(args.query), value(args.at));
      return { ok: true, prices: page.rows.filter((r) => r.price != null).map((r) => r.price.status) };
    }
    case 'quote_many': {
      const out = await engine.quoteMany(value(pick(args, ['accounts', 'skus', 'qtys', 'at', 'currency'])));
      return { statuses: out.status };
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

async function answer(engine, op, args) {
  try {
    return await call(engine, op, args);
  } catch (err) {
    if (typeof err?.code !== 'string') throw err;
    const out = { error: err.code };
    if (err.details?.nearest !== undefined) out.nearest = err.details.nearest;
    return out;
  }
}

const files = readdirSync(root).filter((n) => n.endsWith('.json')).sort();
let count = 0;
const ops = new Set();

for (const name of files) {
  test(`requests ${name}`, async () => {
    const fixture = JSON.parse(readFileSync(join(root, name), 'utf8'));
    const engine = Engine.fromJson(JSON.stringify(fixture.document));
    const failures = [];
    for (const [i, r] of fixture.requests.entries()) {
      count += 1;
      ops.add(r.op);
      const got = await answer(engine, r.op, r.args);
      for (const [key, want] of Object.entries(r.expect)) {
        try {
          assert.deepStrictEqual(got[key], want);
        } catch {
          failures.push(`#${i} ${r.op} ${r.name}: ${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
}

test('the request fixtures are all there', () => {
  assert.ok(count >= MIN_REQUESTS, `only ${count} requests`);
  assert.deepEqual([...ops].sort(), [...OPS].sort());
});
