// search and related beyond the shared fixtures: argument shapes, cursors, prices as strings,
// errors and their codes, the EngineHandle forwarding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Engine, EngineHandle, thrown } from './helpers.mjs';

const catalogText = JSON.stringify(
  JSON.parse(readFileSync(new URL('../../tests/fixtures/search/catalog.json', import.meta.url), 'utf8')).document,
);
const engine = Engine.fromJson(catalogText);
const DAY = '2026-03-01';

test('a page: rows, total, facets and prices as exact decimal strings', () => {
  const page = engine.search('INST', {
    filters: [{ attr: 'color', anyOf: ['blue'] }, { attr: 'voltage', min: 12, max: '18' }],
    facets: [{ attr: 'voltage' }, 'brand'],
    priceQty: '2',
  }, DAY);
  assert.equal(page.total, 4);
  assert.deepEqual(page.rows.map((r) => r.sku), ['DR-12-B', 'DR-18-B', 'MID-DR', 'OLD-DR']);
  assert.equal(page.next, null);
  assert.deepEqual(page.facets, [
    { kind: 'attr', name: 'voltage', values: [{ value: '12', count: 1 }, { value: '18', count: 3 }] },
    { kind: 'brand', name: 'brand', values: [{ value: 'Bosch', count: 4 }] },
  ]);
  const [row] = page.rows;
  assert.deepEqual(
    { sku: row.sku, brand: row.brand, family: row.family, name: row.name, variants: row.variants },
    { sku: 'DR-12-B', brand: 'Bosch', family: 'DR', name: null, variants: [] },
  );
  assert.deepEqual(row.capabilities, { see: true, price: true, buy: true });
  const quote = engine.quote({ account: 'INST', sku: 'DR-12-B', qty: '2', at: DAY });
  assert.deepEqual(row.price, { status: 'OK', unitPrice: quote.unitPrice, lineTotal: '178.20', currency: 'EUR' });
});

test('a row whose quote fails carries its status and no amounts; no price unless asked', () => {
  const [row] = engine.search('INST', { text: 'CASE', priceQty: 1 }, DAY).rows;
  assert.deepEqual(row.price, { status: 'PRICE_HIDDEN', unitPrice: null, lineTotal: null, currency: null });
  assert.equal(engine.search('INST', { text: 'CASE' }, DAY).rows[0].price, null);
  const [bad] = engine.search('INST', { text: 'CASE', priceQty: 'abc' }, DAY).rows;
  assert.equal(bad.price.status, 'INVALID_QUANTITY');
});

test('no query: everything the account may see, by SKU, 20 rows', () => {
  const page = engine.search('INST', undefined, DAY);
  assert.equal(page.total, 9);
  assert.deepEqual(page, engine.search('INST', {}, DAY));
  assert.equal(engine.search('INST').total, engine.search('INST', null, new Date()).total);
});

test('grouped variants carry their axes', () => {
  const page = engine.search('PUB', { filters: [{ family: ['DR'] }], groupVariants: true }, DAY);
  assert.equal(page.total, 1);
  assert.deepEqual(page.rows[0].variants.map((v) => [v.sku, v.axes]), [
    ['DR-12-B', { color: 'blue', voltage: '12V' }],
    ['DR-18-B', { color: 'blue', voltage: '18V' }],
    ['DR-18-R', { color: 'red', voltage: '18V' }],
  ]);
});

test('cursors read every row once, also on another engine built from the same rules', () => {
  const sort = { attr: 'voltage', descending: true };
  const whole = engine.search('INST', { sort, limit: 100 }, DAY).rows.map((r) => r.sku);
  const walked = [];
  let cursor;
  for (;;) {
    const page = engine.search('INST', { sort, limit: 2, cursor }, DAY);
    assert.equal(page.total, whole.length);
    walked.push(...page.rows.map((r) => r.sku));
    if (page.next === null) break;
    assert.equal(typeof page.next, 'string');
    cursor = page.next;
  }
  assert.deepEqual(walked, whole);
  const first = engine.search('INST', { sort, limit: 3 }, DAY);
  const again = Engine.fromJson(catalogText).search('INST', { sort, limit: 3, cursor: first.next }, DAY);
  assert.deepEqual(again.rows.map((r) => r.sku), whole.slice(3, 6));
});

test('hidden products never appear: not a row, a variant, a count or a relation', () => {
  const page = engine.search('INST', { limit: 100, groupVariants: true, facets: ['family', { attr: 'color' }] }, DAY);
  const seen = new Set(page.rows.flatMap((r) => [r.sku, ...r.variants.map((v) => v.sku)]));
  assert.ok(!seen.has('DR-18-R') && !seen.has('CAB-10'));
  const color = page.facets.find((f) => f.name === 'color');
  assert.ok(!color.values.some((v) => v.value === 'black'));
  assert.equal(engine.search('INST', { text: 'DR-18-R' }, DAY).total, 0);
  assert.ok(!engine.related('INST', 'DR-18-B', 'accessories', DAY).some((r) => r.sku === 'CAB-10'));
  assert.equal(thrown(() => engine.related('INST', 'DR-18-R', 'accessories', DAY)).code, 'UNKNOWN_PRODUCT');
});

test('related products with their capabilities', () => {
  assert.deepEqual(engine.related('PUB', 'OLD-DR', 'replacement', DAY), [
    { sku: 'MID-DR', capabilities: { see: true, price: true, buy: true } },
  ]);
  assert.deepEqual(engine.related('INST', '3401234567890', 'requires', DAY).map((r) => r.sku), ['BAT-4']);
  assert.deepEqual(engine.related('PUB', 'BAT-4', 'accessories', DAY), []);
});

test('bad kinds, cursors and query shapes are input errors naming the field', () => {
  for (const kind of ['accessory', 'ACCESSORIES', '', 3]) {
    const err = thrown(() => engine.related('INST', 'DR-18-B', kind, DAY));
    assert.equal(err.code, typeof kind === 'string' ? 'INVALID_RELATION_KIND' : 'INVALID_TYPE');
    assert.match(err.message, /kind/);
  }
  for (const cursor of ['bogus', 'v:x:A', '']) {
    assert.equal(thrown(() => engine.search('INST', { cursor }, DAY)).code, 'INVALID_CURSOR');
  }
  const cases = [
    [{ filters: [{ attr: 'voltage', min: 12.5 }] }, 'FLOAT_REJECTED', /query\.filters\[0\]\.min/],
    [{ filters: [{ attr: 'voltage', anyOf: [18.5] }] }, 'FLOAT_REJECTED', /anyOf\[0\]/],
    [{ filters: [{ attr: 'color', any_of: ['blue'] }] }, 'INVALID_QUERY', /unknown key `any_of`/],
    [{ filters: [{ attr: 'color' }] }, 'INVALID_QUERY', /anyOf, or min/],
    [{ filters: [{ attr: 'voltage', anyOf: ['12'], min: 1 }] }, 'INVALID_QUERY', /not both/],
    [{ filters: [{ brand: ['Bosch'], family: ['DR'] }] }, 'INVALID_QUERY', /query\.filters\[0\]/],
    [{ filters: [{ attr: 'voltage', min: 'twelve' }] }, 'INVALID_QUERY', /not a decimal/],
    [{ filters: [{ brand: 'Bosch' }] }, 'INVALID_TYPE', /query\.filters\[0\]\.brand/],
    [{ filters: { brand: ['Bosch'] } }, 'INVALID_TYPE', /query\.filters/],
    [{ facets: ['colour'] }, 'INVALID_QUERY', /query\.facets\[0\]/],
    [{ sort: 'voltage' }, 'INVALID_QUERY', /query\.sort/],
    [{ sort: { attr: 'voltage', descending: 'yes' } }, 'INVALID_TYPE', /descending/],
    [{ capability: 'order' }, 'INVALID_QUERY', /capability/],
    [{ limit: -1 }, 'INVALID_QUERY', /limit/],
    [{ offset: 1.5 }, 'INVALID_TYPE', /offset/],
    [{ groupVariants: 1 }, 'INVALID_TYPE', /groupVariants/],
    [{ priceQty: 2.5 }, 'FLOAT_REJECTED', /priceQty/],
    ['everything', 'INVALID_TYPE', /query/],
  ];
  for (const [query, code, message] of cases) {
    const err = thrown(() => engine.search('INST', query, DAY));
    assert.equal(err.code, code, JSON.stringify(query));
    assert.match(err.message, message, JSON.stringify(query));
  }
  assert.equal(thrown(() => engine.search(42)).code, 'INVALID_TYPE');
});

test('query errors keep the core precedence', () => {
  assert.equal(thrown(() => engine.search('NOBODY', {}, 'not a date')).code, 'UNKNOWN_ACCOUNT');
  assert.equal(thrown(() => engine.search('INST', {}, 'not a date')).code, 'INVALID_INSTANT');
  assert.equal(thrown(() => engine.related('NOBODY', 'DR-18-B', 'accessories', DAY)).code, 'UNKNOWN_ACCOUNT');
});

test('EngineHandle forwards search and related to the current engine', () => {
  const handle = new EngineHandle(engine);
  assert.deepEqual(handle.search('INST', { limit: 3 }, DAY), engine.search('INST', { limit: 3 }, DAY));
  assert.deepEqual(handle.related('INST', 'DR-18-B', 'accessories', DAY), engine.related('INST', 'DR-18-B', 'accessories', DAY));
});

test('the inStock filter takes only true; the in_stock facet splits the visible catalog', () => {
  const page = engine.search('INST', { filters: [{ inStock: true }], facets: ['in_stock'] }, DAY);
  // The catalog fixture tracks no stock: nothing is in stock.
  assert.equal(page.total, 0);
  assert.equal(page.facets[0].kind, 'in_stock');
  assert.deepEqual(page.facets[0].values.map((v) => v.value), ['false']);
  for (const [bad, code] of [
    [{ inStock: false }, 'INVALID_QUERY'],
    [{ inStock: 1 }, 'INVALID_TYPE'],
    [{ inStock: true, brand: ['Bosch'] }, 'INVALID_QUERY'],
  ]) {
    assert.equal(thrown(() => engine.search('INST', { filters: [bad] }, DAY)).code, code);
  }
});
