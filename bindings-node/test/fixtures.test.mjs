// The shared language-neutral fixtures (tests/fixtures, format in its README.md), answered by the
// binding exactly as the Rust runner answers them: same codes, same decimal strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Engine, FIXTURES as root, fixtureFiles } from './helpers.mjs';

// Fewer checks than this means fixtures went missing, not that they pass.
const MIN_CHECKS = 70;


function error(err) {
  if (typeof err?.code !== 'string') throw err;
  const answer = { error: err.code };
  if (err.details?.nearest !== undefined) answer.nearest = err.details.nearest;
  return answer;
}

// The fixture's query (tests/fixtures/README.md) in the binding's camelCase shape.
function searchQuery(query) {
  const { filters, group_variants: groupVariants, prices, ...rest } = query;
  const out = { ...rest };
  if (filters !== undefined) {
    out.filters = filters.map(({ any_of: anyOf, in_stock: inStock, ...f }) => {
      if (inStock !== undefined) return { ...f, inStock };
      return anyOf === undefined ? f : { ...f, anyOf };
    });
  }
  if (groupVariants !== undefined) out.groupVariants = groupVariants;
  if (prices !== undefined) {
    out.priceQty = prices.qty;
    if (prices.currency != null) out.currency = prices.currency;
  }
  return out;
}

function searchAnswer(engine, c) {
  const query = searchQuery(c.query ?? {});
  const page = engine.search(c.account, query, c.at);
  const answer = {
    total: page.total,
    skus: page.rows.map((r) => r.sku),
    facets: Object.fromEntries(page.facets.map((f) => [f.name, Object.fromEntries(f.values.map((v) => [v.value, v.count]))])),
  };
  if (query.groupVariants) answer.variants = page.rows.map((r) => r.variants.map((v) => v.sku));
  if (query.priceQty !== undefined) answer.prices = page.rows.map((r) => (r.price.status === 'OK' ? r.price.unitPrice : r.price.status));
  if (c.walk !== undefined) {
    const walked = [];
    let cursor;
    for (;;) {
      const step = engine.search(c.account, { ...query, offset: 0, limit: c.walk, cursor }, c.at);
      walked.push(...step.rows.map((r) => r.sku));
      if (step.next === null) break;
      cursor = step.next;
    }
    answer.walk = walked;
  }
  return answer;
}

function answer(engine, c) {
  const at = c.at;
  try {
    switch (c.op) {
      case 'search':
        return searchAnswer(engine, c);
      case 'related':
        return { skus: engine.related(c.account, c.ref, c.kind, at).map((r) => r.sku) };
      case 'quote': {
        const q = engine.quote({ account: c.account, sku: c.ref, qty: String(c.qty), at, currency: c.currency ?? undefined });
        return {
          sku: q.sku,
          currency: q.currency,
          unit_price: q.unitPrice,
          line_total: q.lineTotal,
          base_price: q.basePrice,
          list_price: q.listPrice ?? null,
          buyable: q.buyable,
          applied: q.steps.map((s) => s.rule),
          stock:
            q.stock === null
              ? null
              : { available: q.stock.available, backorder: q.stock.backorder, lead_time_days: q.stock.leadTimeDays },
        };
      }
      case 'visibility':
        return engine.visibility({ account: c.account, sku: c.ref, at });
      case 'lookup':
        return { sku: engine.lookup({ account: c.account, ref: c.ref, at }) };
      default:
        throw new Error(`unknown op ${c.op}`);
    }
  } catch (err) {
    return error(err);
  }
}

// `nearest` is compared as a decimal value, everything else exactly.
function sameDecimal(a, b) {
  const norm = (s) => {
    let t = String(s).replace(/^\+/, '');
    if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
    return t === '-0' ? '0' : t;
  };
  return norm(a) === norm(b);
}

function mismatches(expect, actual) {
  const problems = [];
  for (const [key, want] of Object.entries(expect)) {
    const got = actual[key];
    const same = key === 'nearest' ? got !== undefined && sameDecimal(want, got) : deepEqual(want, got);
    if (!same) problems.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  return problems;
}

function deepEqual(a, b) {
  try {
    assert.deepStrictEqual(b, a);
    return true;
  } catch {
    return false;
  }
}

function reported(documentText) {
  try {
    return { rejected: false, diagnostics: Engine.fromJson(documentText).diagnostics() };
  } catch (err) {
    if (err.code !== 'COMPILE_ERROR') throw err;
    return { rejected: true, diagnostics: err.details };
  }
}

function checkDiagnostics(spec, documentText, failures) {
  const { rejected, diagnostics } = reported(documentText);
  let checks = 0;
  if ((spec.errors ?? []).length > 0 && !rejected) failures.push('expected the document to be rejected');
  for (const key of ['errors', 'warnings']) {
    for (const { code, path } of spec[key] ?? []) {
      checks += 1;
      if (!diagnostics.some((d) => d.code === code && d.path === path)) {
        failures.push(`expected ${code} at \`${path}\`, reported: ${JSON.stringify(diagnostics.map((d) => [d.code, d.path]))}`);
      }
    }
  }
  return checks;
}

const files = fixtureFiles(root);
let checks = 0;
const ops = new Set();

for (const file of files) {
  const name = relative(root, file);
  test(`fixture ${name}`, () => {
    const fixture = JSON.parse(readFileSync(file, 'utf8'));
    // Bad requests and orders have their own runners, requests.test.mjs and orders.test.mjs.
    if (fixture.requests || fixture.orders) return;
    const documentText = JSON.stringify(fixture.document ?? null);
    const failures = [];
    if (fixture.compile) {
      checks += checkDiagnostics(fixture.compile, documentText, failures);
    } else {
      if (fixture.warnings) checks += checkDiagnostics(fixture, documentText, failures);
      const engine = Engine.fromJson(documentText);
      assert.ok((fixture.cases ?? []).length > 0, 'no `cases` and no `compile`');
      fixture.cases.forEach((c, i) => {
        checks += 1;
        ops.add(c.op);
        const actual = answer(engine, c);
        const problems = mismatches(c.expect, actual);
        if (problems.length > 0) {
          failures.push(`#${i} ${c.name ?? '(unnamed)'}: ${problems.join('; ')} (answer: ${JSON.stringify(actual)})`);
        }
      });
    }
    assert.deepEqual(failures, []);
  });
}

test('the fixtures are all there', () => {
  assert.ok(files.length > 0, `no fixture under ${root}`);
  assert.ok(checks >= MIN_CHECKS, `only ${checks} checks`);
  for (const op of ['quote', 'visibility', 'lookup', 'search', 'related']) assert.ok(ops.has(op), `no ${op} case ran`);
});
