// Orders through Node: the shared order fixtures (tests/fixtures/orders/) answer as in Rust and
// Python, and a failed line is a value, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, EngineHandle } from './helpers.mjs';

const dir = fileURLToPath(new URL('../../tests/fixtures/orders/', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));

function lineJson(line) {
  if (line.error) {
    const out = { error: line.error.code };
    if (line.error.code === 'QUANTITY_RULE') out.nearest = line.error.details.nearest;
    if (line.error.code === 'PRICE_BOUND') {
      const { bound, limit, rule } = line.error.details;
      Object.assign(out, { bound, limit, rule });
    }
    return out;
  }
  return { sku: line.sku, unit_price: line.unitPrice, line_total: line.lineTotal };
}

const orderLines = (c) => c.lines.map((l) => ({ ref: l.ref, qty: l.qty, costCentre: l.cost_centre, shipTo: l.ship_to }));

function orderJson(order) {
  const approval = {
    decision: order.approval.decision,
    reasons: order.approval.reasons.map(({ rule, kind, approvers }) => ({ rule, kind, approvers })),
  };
  return {
    currency: order.currency, subtotal: order.subtotal,
    adjustments: order.adjustments.map((a) => ({ id: a.id, kind: a.kind, amount: a.amount, ship_to: a.shipTo ?? null })),
    total: order.total, lines: order.lines.map(lineJson), allocated: order.allocated, approval,
  };
}

function quotedJson(order) {
  const out = orderJson(order);
  out.overrides = order.overrides.map((o) => (o == null ? null : {
    origin: o.origin, rules_unit_price: o.rulesUnitPrice, rules_line_total: o.rulesLineTotal,
  }));
  if (order.placedQuote) out.placed_quote = { number: order.placedQuote.number, rules_changed: order.placedQuote.rulesChanged };
  return out;
}

const prepare = (engine, c, key) => engine.prepareQuote({
  account: c.account, at: c.at, currency: c.currency ?? undefined, lines: orderLines(c),
  validUntil: c.valid_until, key, manualPrices: c.manual_prices, number: c.number,
});

// `prepare_quote` and `place_quote` cases, as tests/fixtures/orders/sales_quotes.json describes them.
function quoteAnswer(engine, c) {
  if (c.op === 'prepare_quote') {
    const prepared = prepare(engine, c, c.key);
    const out = quotedJson(prepared.order);
    out.signed = prepared.document != null;
    if (prepared.document != null) {
      const quote = JSON.parse(prepared.document);
      out.quote = {
        number: quote.number, total: quote.total,
        lines: quote.lines.map(({ sku, unit_price, line_total, allocated, manual }) => ({ sku, unit_price, line_total, allocated, manual })),
      };
    }
    return out;
  }
  let { document } = prepare(engine, c.prepare, c.key);
  if (c.tamper) {
    assert.ok(document.includes(c.tamper[0]));
    document = document.replace(c.tamper[0], c.tamper[1]);
  }
  const today = c.rules ? Engine.fromJson(JSON.stringify(c.rules)) : engine;
  return quotedJson(today.placeQuote({ document, key: c.place_key ?? c.key, at: c.at, user: c.user, spent: c.spent }));
}

function textLineJson(line) {
  const out = {
    line: line.line, merged: line.merged, ref: line.ref, sku: line.sku, qty: line.qty,
    cost_centre: line.costCentre, ship_to: line.shipTo, error: line.error ? line.error.code : null,
  };
  if (line.error?.code === 'QUANTITY_RULE') out.nearest = line.error.details.nearest;
  return out;
}

function answer(engine, c) {
  try {
    if (c.op === 'price_order') {
      return orderJson(engine.priceOrder({
        account: c.account, at: c.at, currency: c.currency ?? undefined, lines: orderLines(c),
        user: c.user, spent: c.spent,
      }));
    }
    if (c.op === 'prepare_quote' || c.op === 'place_quote') return quoteAnswer(engine, c);
    const parsed = engine.parseOrderLines({
      account: c.account, text: c.text, at: c.at, mergeDuplicates: c.merge_duplicates ?? true,
    });
    return { format: parsed.format === '\t' ? '\t' : parsed.format, header: parsed.header, lines: parsed.lines.map(textLineJson) };
  } catch (err) {
    return { error: err.code };
  }
}

// A decimal string without the zeros that do not change its value: exact, unlike Number().
const decimal = (text) => (text.includes('.') ? text.replace(/\.?0+$/, '') : text);

// Every key an expected object lists must match; arrays in length and order; `nearest` as a value.
function check(expect, got, path = 'answer') {
  if (Array.isArray(expect)) {
    assert.ok(Array.isArray(got) && got.length === expect.length, `${path}: expected ${JSON.stringify(expect)}, got ${JSON.stringify(got)}`);
    expect.forEach((w, i) => check(w, got[i], `${path}[${i}]`));
  } else if (expect !== null && typeof expect === 'object') {
    for (const [key, want] of Object.entries(expect)) {
      assert.ok(got && key in got, `${path}.${key}: missing in ${JSON.stringify(got)}`);
      if (key === 'nearest' || key === 'limit') assert.equal(decimal(got[key]), decimal(want), `${path}.${key}`);
      else check(want, got[key], `${path}.${key}`);
    }
  } else {
    assert.deepEqual(got, expect, `${path}`);
  }
}

let ran = 0;
for (const fixture of fixtures) {
  const engine = Engine.fromJson(JSON.stringify(fixture.document));
  fixture.orders.forEach((c, i) => {
    test(`${fixture.file} #${i} ${c.name}`, () => {
      ran += 1;
      check(c.expect, answer(engine, c));
    });
  });
}

test('the order fixtures ran', () => assert.ok(ran >= 24, `only ${ran} cases`));

const engine = Engine.fromJson(JSON.stringify(fixtures.find((f) => f.file === 'orders.json').document));
const AT = '2026-03-01T00:00:00Z';

test('a failed line carries code, message and details', () => {
  const order = engine.priceOrder({ account: 'SITE', at: AT, lines: [
    { ref: 'CAB-B', qty: 7 }, { sku: 'NB-1', qty: '1' }, { ref: 'CAB-R', qty: 'ten' }, { ref: 'perceuse', qty: 2n },
  ] });
  const [rule, notBuyable, unreadable, drill] = order.lines;
  assert.deepEqual(rule.error.details, { sku: 'CAB-B', qty: '7', nearest: '10' });
  assert.match(rule.error.message, /nearest valid quantity is `10`/);
  assert.equal(notBuyable.error.code, 'NOT_BUYABLE');
  assert.equal(unreadable.error.code, 'INVALID_QUANTITY');
  assert.equal(drill.lineTotal, '258.00');
  assert.equal(order.failedLines, 3);
  assert.equal(order.subtotal, '258.00');
  assert.equal(order.engineVersion, engine.engineVersion);
});

test('the order as a whole throws for its account, instant and currency; bad types throw', () => {
  assert.throws(() => engine.priceOrder({ account: 'NOBODY', at: 'soon', lines: [] }), { code: 'UNKNOWN_ACCOUNT' });
  assert.throws(() => engine.priceOrder({ account: 'SITE', at: 'soon', lines: [] }), { code: 'INVALID_INSTANT' });
  assert.throws(() => engine.priceOrder({ account: 'SITE', lines: [{ ref: 'DR-1', qty: 1.5 }] }), { code: 'FLOAT_REJECTED' });
  assert.throws(() => engine.priceOrder({ account: 'SITE', lines: [{ qty: 1 }] }), { code: 'INVALID_TYPE' });
  assert.throws(() => engine.priceOrder({ account: 'SITE', lines: 'DR-1 1' }), { code: 'INVALID_TYPE' });
  assert.throws(() => engine.parseOrderLines({ account: 'SITE', text: 'Qté;Désignation\n1;x' }), { code: 'INVALID_ORDER_TEXT' });
});

test('parsed text prices as an order, also through an EngineHandle', () => {
  const handle = new EngineHandle(engine);
  const parsed = handle.parseOrderLines({ account: 'SITE', at: AT, text: 'Référence;Qté\nperceuse;1\nNOPE;2\n3401234567890;1\nCAB-R;15\n' });
  assert.deepEqual(parsed.lines[0].merged, [4]);
  assert.deepEqual(parsed.lines[1].error.details, { ref: 'NOPE' });
  const lines = parsed.lines.filter((l) => !l.error).map((l) => ({ ref: l.sku, qty: l.qty, costCentre: l.costCentre ?? undefined }));
  const order = handle.priceOrder({ account: 'SITE', at: AT, lines });
  assert.equal(order.total, '295.50');
});

test('approvals: the user and spent-to-date reach the decision; an unknown user throws', () => {
  const approvals = Engine.fromJson(JSON.stringify(fixtures.find((f) => f.file === 'approvals.json').document));
  const order = approvals.priceOrder({
    account: 'SITE', at: AT, user: 'bob', spent: { 'CC-1': '950' },
    lines: [{ ref: 'CAB', qty: 40, costCentre: 'CC-1' }],
  });
  assert.equal(order.approval.decision, 'needs_approval');
  assert.deepEqual(order.approval.reasons[0].approvers, { role: 'controller', users: ['carl'] });
  const explained = approvals.explainOrder({
    account: 'SITE', at: AT, user: 'bob', spent: { 'CC-1': '950' },
    lines: [{ ref: 'CAB', qty: 40, costCentre: 'CC-1' }],
  });
  assert.deepEqual(explained.approval, order.approval);
  assert.throws(() => approvals.priceOrder({ account: 'SITE', user: 'zoe', lines: [] }), { code: 'UNKNOWN_USER', details: { user: 'zoe' } });
  assert.throws(() => approvals.priceOrder({ account: 'SITE', spent: { 'CC-1': 9.5 }, lines: [] }), { code: 'INVALID_TYPE' });
});

test('order conditions are explained and a refusal says what is missing', () => {
  const conditions = Engine.fromJson(JSON.stringify(fixtures.find((f) => f.file === 'conditions.json').document));
  const lines = [{ ref: 'A', qty: 10 }, { ref: 'B', qty: 5 }, { ref: 'C', qty: 6 }];
  const why = conditions.explainOrder({ account: 'SITE', at: AT, lines });
  assert.equal(why.total, '480.20');
  assert.deepEqual(why.allocated, ['2.00', '3.00', '4.80']);
  assert.deepEqual(why.adjustments.map((a) => a.id), ['key/d2']);
  const d5 = why.conditions.find((c) => c.id === 'key/d5');
  assert.ok(!d5.applied && d5.reason.includes('below its threshold `500.00`'));
  assert.equal(why.refused, null);
  assert.equal(why.lines[0].sku, 'A');
  assert.throws(() => conditions.priceOrder({ account: 'STRICT', at: AT, lines: [{ ref: 'A', qty: 9 }] }),
    (err) => err.code === 'MINIMUM_ORDER' && err.details.missing === '10.00' && err.details.minimum === '100.00');
  assert.equal(conditions.explainOrder({ account: 'STRICT', at: AT, lines: [{ ref: 'A', qty: 9 }] }).refused.code, 'MINIMUM_ORDER');
});

test('a quote takes decimal-string manual prices and a string or Buffer key; a number is refused', () => {
  const quotes = Engine.fromJson(JSON.stringify(fixtures.find((f) => f.file === 'sales_quotes.json').document));
  const draft = { account: 'SITE', at: '2026-03-01', validUntil: '2026-04-01', lines: [{ ref: 'A', qty: 10 }] };
  for (const key of ['sixteen bytes ok', Buffer.from('sixteen bytes ok')]) {
    const prepared = quotes.prepareQuote({ ...draft, key, manualPrices: ['9.5'] });
    assert.equal(prepared.order.lines[0].unitPrice, '9.50');
    assert.equal(prepared.order.overrides[0].origin, 'manual');
    const placed = quotes.placeQuote({ document: prepared.document, key: 'sixteen bytes ok', at: '2026-03-02' });
    assert.equal(placed.total, prepared.order.total);
    assert.equal(placed.placedQuote.rulesChanged, false);
  }
  assert.throws(() => quotes.prepareQuote({ ...draft, key: 'sixteen bytes ok', manualPrices: [9.5] }), { code: 'FLOAT_REJECTED' });
  assert.throws(() => quotes.prepareQuote({ ...draft, key: 16 }), { code: 'INVALID_TYPE' });
  assert.throws(() => quotes.prepareQuote({ ...draft, key: 'short' }), { code: 'QUOTE_KEY', details: { keyLen: 5 } });
  const refused = quotes.prepareQuote({ ...draft, key: 'sixteen bytes ok', manualPrices: ['7'] });
  assert.equal(refused.document, null);
  assert.deepEqual(
    (({ bound, limit, rule }) => ({ bound, limit, rule }))(refused.order.lines[0].error.details),
    { bound: 'min_margin_pct', limit: '7.50', rule: 'limits/a-margin' },
  );
  assert.throws(() => quotes.placeQuote({ document: '{}', key: 'sixteen bytes ok' }), { code: 'QUOTE_INVALID' });
});
