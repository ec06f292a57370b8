// Every failure is a thrown Error (or a rejected promise) with the core's stable `code`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AT, Engine, smallDocument, smallEngine, thrown } from './helpers.mjs';

const engine = smallEngine();
const line = (over) => ({ account: 'ACME', sku: 'DR-18V-01', qty: '1', at: AT, ...over });

test('a rejected document lists every diagnostic in err.details', () => {
  const doc = smallDocument();
  doc.bogus = 1;
  doc.products.push({ sku: '' });
  doc.price_lists[1].prices.push({ sku: 'BAT-18V-4AH', price: 'abc' });
  const err = thrown(() => Engine.fromJson(JSON.stringify(doc)));
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'COMPILE_ERROR');
  const codes = err.details.map((d) => `${d.code} ${d.path}`);
  assert.ok(codes.includes('UNKNOWN_FIELD bogus'), codes.join('\n'));
  assert.ok(codes.includes('INVALID_ID products[5].sku'), codes.join('\n'));
  assert.ok(err.details.some((d) => d.code === 'INVALID_DECIMAL'), codes.join('\n'));
  for (const d of err.details) {
    assert.deepEqual(Object.keys(d).sort(), ['code', 'ids', 'message', 'path', 'severity']);
  }
  assert.match(err.message, /document rejected/);
});

test('unparsable JSON is a compile error too', () => {
  const err = thrown(() => Engine.fromJson('{"format": '));
  assert.equal(err.code, 'COMPILE_ERROR');
  assert.equal(err.details[0].code, 'PARSE_ERROR');
});

test('strict mode rejects warnings with STRICT_WARNINGS', () => {
  const doc = smallDocument();
  doc.products.push({ sku: 'UNPRICED' });
  const text = JSON.stringify(doc);
  const lenient = Engine.fromJson(text);
  assert.ok(lenient.diagnostics().some((d) => d.code === 'UNPRICED_PRODUCT' && d.severity === 'warning'));
  const err = thrown(() => Engine.fromJson(text, { strict: true }));
  assert.equal(err.code, 'STRICT_WARNINGS');
  assert.ok(err.details.some((d) => d.code === 'UNPRICED_PRODUCT'));
});

test('query errors carry the core codes', () => {
  const cases = [
    [line({ account: 'NOBODY' }), 'UNKNOWN_ACCOUNT'],
    [line({ sku: 'NOTHING' }), 'UNKNOWN_PRODUCT'],
    [line({ sku: 'SECRET' }), 'UNKNOWN_PRODUCT'],
    [line({ sku: 'NOPRICE-SHOWN' }), 'PRICE_HIDDEN'],
    [line({ qty: '0' }), 'INVALID_QUANTITY'],
    [line({ qty: '-2' }), 'INVALID_QUANTITY'],
    [line({ qty: 'abc' }), 'INVALID_QUANTITY'],
    [line({ qty: -3 }), 'INVALID_QUANTITY'],
    [line({ currency: 'XXX' }), 'UNKNOWN_CURRENCY'],
    [line({ at: 'soon' }), 'INVALID_INSTANT'],
    [line({ at: '2026-13-45' }), 'INVALID_INSTANT'],
  ];
  for (const [input, code] of cases) {
    const err = thrown(() => engine.quote(input));
    assert.ok(err instanceof Error);
    assert.equal(err.code, code, `${JSON.stringify(input)}: ${err.message}`);
  }
});

test('the error message keeps the caller text', () => {
  assert.match(thrown(() => engine.quote(line({ qty: 'abc' }))).message, /`abc`/);
  assert.match(thrown(() => engine.quote(line({ at: 'soon' }))).message, /`soon`/);
});

test('precedence: account, then instant, then currency, then product, then quantity', () => {
  assert.equal(thrown(() => engine.quote(line({ account: 'NOBODY', at: 'soon', qty: 'x' }))).code, 'UNKNOWN_ACCOUNT');
  assert.equal(thrown(() => engine.quote(line({ at: 'soon', currency: 'XXX' }))).code, 'INVALID_INSTANT');
  assert.equal(thrown(() => engine.quote(line({ currency: 'XXX', sku: 'NOTHING' }))).code, 'UNKNOWN_CURRENCY');
  assert.equal(thrown(() => engine.quote(line({ sku: 'NOTHING', qty: 'x' }))).code, 'UNKNOWN_PRODUCT');
  assert.equal(thrown(() => engine.visibility({ account: 'NOBODY', sku: 'DR-18V-01', at: 'soon' })).code, 'UNKNOWN_ACCOUNT');
  assert.equal(thrown(() => engine.lookup({ account: 'NOBODY', ref: 'x', at: 'soon' })).code, 'UNKNOWN_ACCOUNT');
});

test('QUANTITY_RULE carries the nearest valid quantity', () => {
  const err = thrown(() => engine.quote(line({ sku: 'BAT-18V-4AH', qty: '3' })));
  assert.equal(err.code, 'QUANTITY_RULE');
  assert.deepEqual(err.details, { sku: 'BAT-18V-4AH', qty: '3', nearest: '4' });
});

test('NO_PRICE names the currencies that have a price', () => {
  const err = thrown(() => engine.quote(line({ sku: 'EUR-ONLY', currency: 'USD' })));
  assert.equal(err.code, 'NO_PRICE');
  assert.deepEqual(err.details, { sku: 'EUR-ONLY', currency: 'USD', pricedIn: ['EUR'] });
  assert.match(err.message, /`EUR`/);
});

test('every query error names its values in err.details, with the keys Python uses', () => {
  // bindings-python/tests/test_quote.py checks the same keys (pricedIn there is priced_in).
  const cases = [
    [line({ account: 'NOBODY' }), 'UNKNOWN_ACCOUNT', { account: 'NOBODY' }],
    [line({ sku: 'NO-SUCH' }), 'UNKNOWN_PRODUCT', { ref: 'NO-SUCH' }],
    [line({ currency: 'GBP' }), 'UNKNOWN_CURRENCY', { currency: 'GBP' }],
    [line({ at: 'yesterday' }), 'INVALID_INSTANT', { at: 'yesterday' }],
    [line({ qty: '0' }), 'INVALID_QUANTITY', { qty: '0' }],
  ];
  for (const [input, code, details] of cases) {
    const err = thrown(() => engine.quote(input));
    assert.equal(err.code, code);
    assert.deepEqual(err.details, details, code);
  }
});

test('bad JavaScript input has the code of what is wrong with it, naming the field', () => {
  const cases = [
    [line({ qty: 1.5 }), 'FLOAT_REJECTED', /qty.*1\.5.*exact decimal/],
    [line({ qty: 0.1 + 0.2 }), 'FLOAT_REJECTED', /exact decimal/],
    [line({ qty: Number.NaN }), 'FLOAT_REJECTED', /exact decimal/],
    [line({ qty: 2 ** 60 }), 'FLOAT_REJECTED', /exact decimal/],
    [line({ qty: true }), 'INVALID_TYPE', /`qty` must be/],
    [line({ qty: undefined }), 'INVALID_TYPE', /qty/],
    [line({ account: 42 }), 'INVALID_TYPE', /`account` must be a string, got a number/],
    [line({ sku: null }), 'INVALID_TYPE', /`sku` must be a string, got null/],
    [line({ sku: 'DR-18V-01\ud800' }), 'INVALID_TEXT', /`sku` is not valid Unicode text/],
    [line({ at: new Date('not a date') }), 'INVALID_TYPE', /invalid Date/],
    [line({ at: 12 }), 'INVALID_TYPE', /`at` must be a Date/],
    [line({ currency: 1 }), 'INVALID_TYPE', /`currency` must be a string/],
    [{ sku: 'DR-18V-01', qty: '1' }, 'INVALID_TYPE', /account/],
    ['ACME', 'INVALID_TYPE', /must be an object/],
    [undefined, 'INVALID_TYPE', /must be an object/],
  ];
  for (const [input, code, message] of cases) {
    const err = thrown(() => engine.quote(input));
    assert.equal(err.code, code, `${String(input?.qty)}: ${err.message}`);
    assert.match(err.message, message);
  }
  assert.equal(thrown(() => engine.visibility({ account: 'ACME' })).code, 'INVALID_TYPE');
  assert.equal(thrown(() => engine.lookup({ account: 'ACME', ref: 7 })).code, 'INVALID_TYPE');
  assert.equal(thrown(() => engine.explain(line({ qty: 2.5 }))).code, 'FLOAT_REJECTED');
});

test('a quantity may be a bigint, exact to the last digit', () => {
  assert.equal(engine.quote(line({ qty: 2n ** 63n })).qty, '9223372036854775808');
  assert.equal(thrown(() => engine.quote(line({ qty: 10n ** 30n }))).code, 'INVALID_QUANTITY');
});

test('explain reports an unreadable quantity after the account and the product, as quote does', () => {
  assert.equal(thrown(() => engine.explain(line({ qty: 'abc' }))).code, 'INVALID_QUANTITY');
  assert.equal(thrown(() => engine.explain(line({ account: 'NOBODY', qty: 'abc' }))).code, 'UNKNOWN_ACCOUNT');
  assert.equal(thrown(() => engine.explain(line({ sku: 'NOPE', qty: 'abc' }))).code, 'UNKNOWN_PRODUCT');
});

test('a document that is not a string, or not UTF-8, has a code', () => {
  const err = thrown(() => Engine.fromJson(42));
  assert.equal(err.code, 'INVALID_TYPE');
  assert.match(err.message, /`text` must be a string, got a number/);
  assert.equal(thrown(() => Engine.fromFile(42)).code, 'INVALID_TYPE');
  const path = join(tmpdir(), `tarif-latin1-${process.pid}.json`);
  writeFileSync(path, Buffer.from('{"format": "tarif/1", "products": [{"sku": "CAF\xc9"}]}', 'latin1'));
  const notUtf8 = thrown(() => Engine.fromFile(path));
  assert.equal(notUtf8.code, 'COMPILE_ERROR');
  assert.equal(notUtf8.details[0].code, 'PARSE_ERROR');
  assert.match(notUtf8.details[0].message, /not UTF-8: invalid byte at offset 47/);
});

test('unreadable files are IO_ERROR, synchronously and asynchronously', async () => {
  const missing = join(tmpdir(), 'tarif-does-not-exist.json');
  assert.equal(thrown(() => Engine.fromFile(missing)).code, 'IO_ERROR');
  await assert.rejects(Engine.load(missing), (err) => err.code === 'IO_ERROR' && err.message.includes(missing));
});

test('Engine.load rejects a bad document with every diagnostic', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarif-'));
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{"format": "tarif/0", "bogus": true}');
  await assert.rejects(Engine.load(path), (err) => {
    assert.equal(err.code, 'COMPILE_ERROR');
    assert.deepEqual(err.details.map((d) => d.code).sort(), ['INVALID_FORMAT', 'UNKNOWN_FIELD']);
    return true;
  });
});

test('extreme values fail with codes, never crash the process', () => {
  const huge = '79228162514264337593543950335';
  for (const input of [
    line({ qty: huge }),
    line({ qty: `${huge}0` }),
    line({ qty: '0.0000000000000000000000000001' }),
    line({ qty: Number.MAX_SAFE_INTEGER }),
    line({ at: new Date(8.64e15) }),
    line({ at: new Date(-8.64e15) }),
    line({ at: '9999-12-31T23:59:59Z' }),
    line({ sku: 'x'.repeat(100_000) }),
    line({ account: '\u0000' }),
  ]) {
    try {
      const q = engine.quote(input);
      assert.equal(typeof q.lineTotal, 'string');
    } catch (err) {
      assert.equal(typeof err.code, 'string', err.stack);
      assert.notEqual(err.code, 'INTERNAL_ERROR', err.message);
    }
  }
});
