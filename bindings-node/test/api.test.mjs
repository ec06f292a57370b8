// The synchronous API: shapes, decimal strings, instants, references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AT, Engine, EngineHandle, sampleDocument, smallDocument, smallEngine } from './helpers.mjs';

const engine = smallEngine();

test('quote returns money and quantities as exact decimal strings', () => {
  const q = engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT });
  assert.deepEqual(
    { sku: q.sku, qty: q.qty, currency: q.currency, unitPrice: q.unitPrice, lineTotal: q.lineTotal,
      basePrice: q.basePrice, listPrice: q.listPrice, buyable: q.buyable, stage: q.stage },
    { sku: 'DR-18V-01', qty: '3', currency: 'EUR', unitPrice: '116.10', lineTotal: '348.30',
      basePrice: '129.00', listPrice: '129.00', buyable: true, stage: 'unit' },
  );
  assert.equal(q.engineVersion, engine.engineVersion);
  assert.match(q.engineVersion, /^t1-[0-9a-f]{16}$/);
  assert.deepEqual(q.steps.map((s) => [s.step, s.rule, s.source, s.level, s.before, s.after]), [
    ['base', 'list-eur/DR-18V-01', 'price list list-eur', 'everyone', null, '129.00'],
    ['discount', 'CTR-ACME/tools-10', 'contract CTR-ACME', 'account ACME', '129.00', '116.10'],
  ]);
  for (const s of q.steps) assert.ok(Array.isArray(s.notes));
});

test('an integer number is the same quantity as its string; decimals go as strings', () => {
  const asString = engine.quote({ account: 'RETAIL', sku: 'DR-18V-01', qty: '12', at: AT });
  const asNumber = engine.quote({ account: 'RETAIL', sku: 'DR-18V-01', qty: 12, at: AT });
  assert.deepEqual(asNumber, asString);
  assert.equal(asNumber.unitPrice, '119.00');
  assert.ok(asNumber.steps[0].notes.includes('tier'));
  const decimal = engine.quote({ account: 'RETAIL', sku: 'DR-18V-01', qty: '2.5', at: AT });
  assert.equal(decimal.qty, '2.5');
  assert.equal(decimal.lineTotal, '322.500');
});

test('net prices, aliases, EAN, MPN and currencies', () => {
  const net = engine.quote({ account: 'ACME', sku: 'BAT-18V-4AH', qty: 2, at: AT });
  assert.equal(net.unitPrice, '64.50');
  assert.equal(net.listPrice, '79.00');
  assert.ok(net.steps[0].notes.includes('exclusive'));
  assert.equal(engine.quote({ account: 'ACME-LYON', sku: ' acme-4711 ', qty: 1, at: AT }).sku, 'DR-18V-01');
  assert.equal(engine.lookup({ account: 'RETAIL', ref: '03401234567890' }), 'DR-18V-01');
  assert.equal(engine.lookup({ account: 'RETAIL', ref: 'bsh-0601', at: AT }), 'DR-18V-01');
  const usd = engine.quote({ account: 'RETAIL', sku: 'DR-18V-01', qty: 1, at: AT, currency: 'USD' });
  assert.equal(usd.currency, 'USD');
  assert.equal(usd.unitPrice, '140.00');
});

test('`at` takes a Date, an RFC 3339 string or a date in the document zone', () => {
  const q = (at) => engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: 1, at }).unitPrice;
  // The ACME contract starts 2026-01-01 in Europe/Paris, i.e. 2025-12-31T23:00:00Z.
  assert.equal(q('2025-12-31T22:59:59Z'), '129.00');
  assert.equal(q('2025-12-31T23:00:00Z'), '116.10');
  assert.equal(q(new Date('2025-12-31T22:59:59.999Z')), '129.00');
  assert.equal(q(new Date(Date.UTC(2025, 11, 31, 23))), '116.10');
  assert.equal(q('2026-01-01'), '116.10');
  assert.equal(q('2025-12-31'), '129.00');
  assert.equal(q('2027-01-01'), '129.00');
  assert.equal(q(new Date(AT)), q(AT));
});

test('without `at`, quotes are at the current instant', () => {
  const now = engine.explain({ account: 'ACME', sku: 'DR-18V-01', qty: 1 });
  const drift = Math.abs(Date.parse(now.at) - Date.now());
  assert.ok(drift < 60_000, now.at);
});

test('visibility reports capabilities; hidden products do not exist for quote and lookup', () => {
  assert.deepEqual(engine.visibility({ account: 'RETAIL', sku: 'DR-18V-01', at: AT }), { see: true, price: true, buy: true });
  assert.deepEqual(engine.visibility({ account: 'RETAIL', sku: 'NOPRICE-SHOWN' }), { see: true, price: false, buy: false });
  assert.deepEqual(engine.visibility({ account: 'RETAIL', sku: 'SECRET', at: new Date(AT) }), { see: false, price: false, buy: false });
});

test('explain mirrors the core explanation, with its text', () => {
  const e = engine.explain({ account: 'ACME', sku: 'SECRET', qty: '2', at: AT });
  assert.equal(e.account, 'ACME');
  assert.equal(e.sku, 'SECRET');
  assert.equal(e.qty, '2');
  assert.equal(e.at, AT);
  assert.equal(e.currency, 'EUR');
  assert.deepEqual(e.visibility.allowed, { see: false, price: false, buy: false });
  assert.match(e.visibility.decidedBy.see, /CTR-HIDE/);
  assert.equal(e.outcome.ok, false);
  assert.equal(e.outcome.code, 'UNKNOWN_PRODUCT');
  assert.match(e.text, /^2 × SECRET for ACME at 2026-06-01T12:00:00Z in EUR\n/);
  assert.match(e.text, /no price: UNKNOWN_PRODUCT/);

  const ok = engine.explain({ account: 'ACME', sku: 'DR-18V-01', qty: 1, at: AT });
  assert.deepEqual(ok.outcome, { ok: true, unitPrice: '116.10', lineTotal: '116.10', code: null, message: null });
  const base = ok.steps.find((s) => s.step === 'base');
  assert.equal(base.select, 'most_specific');
  const winner = base.candidates.find((c) => c.applied);
  assert.equal(winner.rule, 'list-eur/DR-18V-01');
  assert.equal(winner.result, '129.00');
  assert.equal(typeof winner.priority, 'number');
  assert.match(winner.specificity, /^\d+\.\d+\.\d+$/);
  assert.match(ok.text, /price: 116\.10 per unit, 116\.10 for the line$/);
});

test('diagnostics, skus, engineVersion', () => {
  assert.deepEqual(engine.skus(), ['DR-18V-01', 'BAT-18V-4AH', 'EUR-ONLY', 'SECRET', 'NOPRICE-SHOWN']);
  assert.ok(Array.isArray(engine.diagnostics()));
  const again = Engine.fromJson(JSON.stringify(smallDocument(), null, 4));
  assert.equal(again.engineVersion, engine.engineVersion, 'formatting does not change the version');
  assert.notEqual(Engine.fromJson(JSON.stringify(smallDocument({ drillPrice: '1.00' }))).engineVersion, engine.engineVersion);
});

test('accounts, accountInfos and currencies, in document order', () => {
  assert.deepEqual(engine.accounts(), ['ACME', 'ACME-LYON', 'RETAIL']);
  assert.deepEqual(engine.currencies(), ['EUR', 'USD']);
  const infos = engine.accountInfos();
  assert.deepEqual(infos.map((a) => a.id), engine.accounts());
  const lyon = infos.find((a) => a.id === 'ACME-LYON');
  assert.equal(lyon.parent, 'ACME');
  assert.equal(lyon.root, 'ACME');
  assert.deepEqual(lyon.segments, []);
  assert.equal(infos.find((a) => a.id === 'ACME').parent ?? null, null);
  assert.equal(infos.find((a) => a.id === 'RETAIL').root, 'RETAIL');
});

test('fromFile and load give the same engine as fromJson', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarif-'));
  const path = join(dir, 'rules.json');
  writeFileSync(path, JSON.stringify(smallDocument()));
  assert.equal(Engine.fromFile(path).engineVersion, engine.engineVersion);
  const loaded = await Engine.load(path);
  assert.ok(loaded instanceof Engine);
  assert.equal(loaded.engineVersion, engine.engineVersion);
  assert.deepEqual(
    loaded.quote({ account: 'ACME', sku: 'DR-18V-01', qty: 3, at: AT }),
    engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: 3, at: AT }),
  );
});

test('the sample document compiles', () => {
  const text = sampleDocument();
  const sample = Engine.fromJson(text);
  assert.equal(sample.skus().length, JSON.parse(text).products.length);
});

test('engines cannot be constructed directly', () => {
  assert.throws(() => new Engine());
});

test('util.inspect shows which rules an engine holds', async () => {
  const { inspect } = await import('node:util');
  const engine = Engine.fromJson(sampleDocument());
  assert.equal(inspect(engine), `Engine { engineVersion: '${engine.engineVersion}', warnings: 0 }`);
  assert.match(inspect(new EngineHandle(engine)), /^EngineHandle \{ engineVersion: 't1-[0-9a-f]+', warnings: 0 \}$/);
});

test('quote.stock: what ships now, the backorder and its lead time, as strings; null when untracked', () => {
  const doc = smallDocument();
  doc.stock = [{ sku: 'DR-18V-01', warehouses: [{ id: 'LYON', available: '2', lead_time_days: 4 }, { id: 'PARIS', available: 0.5 }] }];
  const stocked = Engine.fromJson(JSON.stringify(doc));
  const q = stocked.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT });
  assert.deepEqual(q.stock, {
    available: '2.5',
    backorder: '0.5',
    leadTimeDays: 4,
    warehouses: [
      { id: 'LYON', available: '2', leadTimeDays: 4 },
      { id: 'PARIS', available: '0.5', leadTimeDays: null },
    ],
  });
  // Stock never moves the price.
  assert.equal(q.lineTotal, engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT }).lineTotal);
  assert.equal(stocked.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '1', at: AT }).stock.leadTimeDays, null);
  assert.equal(engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: '3', at: AT }).stock, null);
});

test('quote builds in JavaScript the object the native quote builds, errors included', () => {
  const doc = smallDocument();
  doc.stock = [{ sku: 'DR-18V-01', warehouses: [{ id: 'LYON', available: '2', lead_time_days: 4 }] }];
  // Values the quote's text cannot carry (its separator, its null) take the tuple.
  doc.products.push({ sku: 'ODD\u001fONE' }, { sku: 'NUL\u0000ONE' });
  doc.price_lists[0].prices.push({ sku: 'ODD\u001fONE', price: '2.00' }, { sku: 'NUL\u0000ONE', price: '3.00' });
  const text = sampleDocument();
  const native = Symbol.for('tarif.nativeQuote');
  const answer = (quote) => {
    try {
      return { quote: quote() };
    } catch (err) {
      return { code: err.code, message: err.message, details: err.details };
    }
  };
  let priced = 0;
  let stocked = 0;
  let odd = 0;
  // The sample's first accounts and products (every kind of rule), and a document with stock.
  for (const [engine, accounts] of [
    [Engine.fromJson(text), JSON.parse(text).accounts.slice(0, 12).map((a) => a.id)],
    [Engine.fromJson(JSON.stringify(doc)), doc.accounts.map((a) => a.id)],
  ]) {
    const handle = new EngineHandle(engine);
    for (const account of [...accounts, 'NOBODY']) {
      for (const sku of [...engine.skus().slice(0, 40), 'NOTHING']) {
        if (sku.includes('\u001f')) odd += 1;
        for (const [qty, currency] of [['1', undefined], ['2.5', null], [12, 'USD'], ['0', undefined]]) {
          const input = { account, sku, qty, at: AT, currency };
          const expected = answer(() => engine[native](input));
          assert.deepStrictEqual(answer(() => engine.quote(input)), expected, JSON.stringify(input));
          assert.deepStrictEqual(answer(() => handle.quote(input)), expected, JSON.stringify(input));
          if (expected.quote) priced += 1;
          if (expected.quote?.stock) stocked += 1;
        }
      }
    }
    for (const input of [null, 'ACME', { sku: 'DR-18V-01', qty: 1 }, { account: 'ACME', sku: 'DR-18V-01' }]) {
      assert.deepStrictEqual(answer(() => engine.quote(input)), answer(() => engine[native](input)));
    }
  }
  assert.ok(priced > 100 && stocked > 0 && odd > 0, `${priced} priced, ${stocked} with stock`);
});
