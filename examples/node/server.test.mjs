// Starts the example service as its own process on a loopback ephemeral port and checks real
// HTTP answers against the package called directly, and the service's request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { Engine } from 'tarif';
import { sampleDocument } from 'tarif/sample';

const sampleText = sampleDocument();
const engine = Engine.fromJson(sampleText);
const accounts = JSON.parse(sampleText).accounts.map((a) => a.id);
let server;
let base;
// Everything the server wrote on stdout: its request log.
let log = '';

// An account and two products it can buy, found through the binding itself.
function buyable() {
  for (const account of accounts) {
    const skus = engine.skus().filter((sku) => {
      try {
        return engine.quote({ account, sku, qty: 1 }).buyable;
      } catch {
        return false;
      }
    });
    if (skus.length >= 2) return { account, skus };
  }
  throw new Error('the sample has no account with two buyable products');
}
const { account, skus } = buyable();
const QUOTE_KEY = 'the example service quote key';

before(async () => {
  server = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url)), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TARIF_QUOTE_KEY: QUOTE_KEY },
  });
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (chunk) => { log += chunk; });
  while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(log)) {
    await Promise.race([
      once(server.stdout, 'data'),
      once(server, 'exit').then(() => { throw new Error(`the server exited: ${log}`); }),
    ]);
  }
  base = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)[1];
});

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
});

async function get(path) {
  const res = await fetch(`${base}${path}`);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return { status: res.status, body: await res.json() };
}

async function post(path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const q = (params) => `/quote?${new URLSearchParams(params)}`;

test('GET /quote prices a line exactly as the binding does', async () => {
  const at = '2026-06-01T00:00:00Z';
  const { status, body } = await get(q({ account, ref: skus[0], qty: '3', at }));
  assert.equal(status, 200);
  assert.deepEqual(body, JSON.parse(JSON.stringify(engine.quote({ account, sku: skus[0], qty: '3', at }))));
  assert.equal(typeof body.unitPrice, 'string');
});

test('GET /quote answers bad input with 4xx JSON errors and codes', async () => {
  const cases = [
    [{ account: 'NOBODY', ref: skus[0], qty: '1' }, 404, 'UNKNOWN_ACCOUNT'],
    [{ account, ref: 'NO-SUCH-THING', qty: '1' }, 404, 'UNKNOWN_PRODUCT'],
    [{ account, ref: skus[0], qty: 'abc' }, 400, 'INVALID_QUANTITY'],
    [{ account, ref: skus[0], qty: '-1' }, 400, 'INVALID_QUANTITY'],
    [{ account, ref: skus[0] }, 400, 'INVALID_TYPE'],
    [{ ref: skus[0], qty: '1' }, 400, 'INVALID_TYPE'],
    [{ account, ref: skus[0], qty: '1', at: 'yesterday' }, 400, 'INVALID_INSTANT'],
    [{ account, ref: skus[0], qty: '1', currency: 'XXX' }, 400, 'UNKNOWN_CURRENCY'],
  ];
  for (const [params, wantStatus, code] of cases) {
    const { status, body } = await get(q(params));
    assert.equal(status, wantStatus, JSON.stringify({ params, body }));
    assert.equal(body.error.code, code);
    assert.equal(typeof body.error.message, 'string');
  }
});

test('POST /cart prices several lines with per-line statuses and exact totals', async () => {
  const lines = [
    { ref: skus[0], qty: '2' },
    { ref: skus[1], qty: 5 },
    { ref: 'NO-SUCH-THING', qty: '1' },
  ];
  const { status, body } = await post('/cart', { account, lines, at: '2026-06-01' });
  assert.equal(status, 200);
  assert.deepEqual(body.lines.map((l) => l.status), ['OK', 'OK', 'UNKNOWN_PRODUCT']);
  for (const [i, line] of body.lines.slice(0, 2).entries()) {
    const direct = engine.quote({ account, sku: lines[i].ref, qty: lines[i].qty, at: '2026-06-01' });
    assert.equal(line.unitPrice, direct.unitPrice);
    assert.equal(line.lineTotal, direct.lineTotal);
  }
  const cents = (v) => Math.round(Number(v) * 100);
  const [currency] = Object.keys(body.totals);
  assert.equal(cents(body.totals[currency]), cents(body.lines[0].lineTotal) + cents(body.lines[1].lineTotal));
  assert.equal(body.complete, false);
  assert.equal(body.engineVersion, engine.engineVersion);
});

test('POST /cart rejects malformed carts with 4xx JSON errors', async () => {
  const cases = [
    ['{"account": ', 400, 'INVALID_JSON'],
    [{ account, lines: [] }, 400, 'INVALID_INPUT'],
    [{ account, lines: [{ ref: skus[0], qty: 1.5 }] }, 400, 'FLOAT_REJECTED'],
    [{ lines: [{ ref: skus[0], qty: 1 }] }, 400, 'INVALID_TYPE'],
    [{ account, lines: [{ ref: skus[0], qty: 1 }], at: 'soon' }, 400, 'INVALID_INSTANT'],
  ];
  for (const [body, wantStatus, code] of cases) {
    const res = await post('/cart', body);
    assert.equal(res.status, wantStatus, JSON.stringify(res.body));
    assert.equal(res.body.error.code, code);
  }
  const tooLarge = await post('/cart', { account, lines: [{ ref: 'x'.repeat(2 << 20), qty: 1 }] });
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.body.error.code, 'BODY_TOO_LARGE');
});

test('POST /orders/price reads a pasted CSV and prices it as the binding does', async () => {
  const at = '2026-06-01T00:00:00Z';
  const csv = `Référence;Quantité\n${skus[0]};2\nNO-SUCH-THING;1\n${skus[1]};3\n${skus[0]};1\n`;
  const { status, body } = await post(`/orders/price?${new URLSearchParams({ account, at })}`, csv);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.format, ';');
  assert.deepEqual(body.read.map((l) => l.error?.code ?? l.sku), [skus[0], 'UNKNOWN_PRODUCT', skus[1]]);
  assert.deepEqual(body.read[0].merged, [5]); // input line 5: the header is line 1
  const direct = engine.priceOrder({ account, at, lines: [{ sku: skus[0], qty: '3' }, { sku: skus[1], qty: '3' }] });
  assert.equal(body.order.subtotal, direct.subtotal);
  assert.deepEqual(body.order.lines.map((l) => l.lineTotal), direct.lines.map((l) => l.lineTotal));
  const header = await post(`/orders/price?${new URLSearchParams({ account })}`, 'Qté;Désignation\n1;x\n');
  assert.equal(header.status, 422);
  assert.equal(header.body.error.code, 'INVALID_ORDER_TEXT');
  const nobody = await post('/orders/price?account=NOBODY', `${skus[0]} 1`);
  assert.equal(nobody.status, 404);
  assert.equal(nobody.body.error.code, 'UNKNOWN_ACCOUNT');
});

test('POST /quotes signs what the binding signs, and /quotes/place keeps its prices or refuses', async () => {
  const at = '2026-06-01T00:00:00Z';
  const draft = { account, at, lines: [{ ref: skus[0], qty: '2' }, { ref: skus[1], qty: '1' }], validUntil: '2026-07-01T00:00:00Z', number: 'DEV-1' };
  const { status, body } = await post('/quotes', draft);
  assert.equal(status, 200, JSON.stringify(body));
  const direct = engine.prepareQuote({ ...draft, key: QUOTE_KEY });
  assert.equal(body.document, direct.document);
  assert.equal(body.order.total, direct.order.total);
  const placed = await post('/quotes/place', { document: body.document, at: '2026-06-30T23:59:59Z' });
  assert.equal(placed.status, 200, JSON.stringify(placed.body));
  assert.equal(placed.body.total, direct.order.total);
  assert.equal(placed.body.placedQuote.number, 'DEV-1');
  assert.equal(placed.body.placedQuote.rulesChanged, false);
  const forged = body.document.replace(`"total": "${direct.order.total}"`, '"total": "0.01"');
  assert.notEqual(forged, body.document);
  const tampered = await post('/quotes/place', { document: forged });
  assert.deepEqual([tampered.status, tampered.body.error.code], [403, 'QUOTE_TAMPERED']);
  const late = await post('/quotes/place', { document: body.document, at: '2026-07-01T00:00:00Z' });
  assert.deepEqual([late.status, late.body.error.code], [410, 'QUOTE_EXPIRED']);
  const bad = await post('/quotes/place', { document: 42 });
  assert.deepEqual([bad.status, bad.body.error.code], [400, 'INVALID_INPUT']);
});

test('GET /search pages through exactly the SKUs the account may see', async () => {
  const visible = engine.skus().filter((sku) => engine.visibility({ account, sku }).see).sort();
  const skusOf = (body) => body.rows.map((r) => r.sku);
  const first = await get(`/search?account=${account}&limit=10`);
  assert.equal(first.status, 200);
  assert.equal(first.body.total, visible.length);
  assert.deepEqual(skusOf(first.body), visible.slice(0, 10));
  assert.equal(first.body.engineVersion, engine.engineVersion);
  const byCursor = await get(`/search?account=${account}&limit=10&cursor=${encodeURIComponent(first.body.next)}`);
  assert.deepEqual(skusOf(byCursor.body), visible.slice(10, 20));
  const byOffset = await get(`/search?account=${account}&offset=10&limit=10`);
  assert.deepEqual(skusOf(byOffset.body), visible.slice(10, 20));
  assert.equal((await get('/search?account=NOBODY')).body.error.code, 'UNKNOWN_ACCOUNT');
  for (const [path, code] of [
    [`/search?account=${account}&limit=-3`, 'INVALID_INPUT'],
    [`/search?account=${account}&cursor=bogus`, 'INVALID_CURSOR'],
    [`/search?account=${account}&capability=order`, 'INVALID_QUERY'],
    [`/search?account=${account}&min.voltage=twelve`, 'INVALID_QUERY'],
    ['/search', 'INVALID_TYPE'],
  ]) {
    const bad = await get(path);
    assert.equal(bad.status, 400, path);
    assert.equal(bad.body.error.code, code, path);
  }
});

test('GET /search filters, counts facets and prices as the binding does', async () => {
  const { facets } = engine.search(account, { facets: ['brand', 'category'] });
  const [brand] = facets[0].values;
  const [category] = facets[1].values;
  const path = `/search?account=${account}&brand=${encodeURIComponent(brand.value)}&facets=brand,category&qty=2&limit=5`;
  const { status, body } = await get(path);
  assert.equal(status, 200);
  assert.equal(body.total, brand.count);
  const direct = engine.search(account, { filters: [{ brand: [brand.value] }], facets: ['brand', 'category'], priceQty: '2', limit: 5 });
  assert.deepEqual(body.rows, JSON.parse(JSON.stringify(direct.rows)));
  assert.deepEqual(body.facets, direct.facets);
  for (const row of body.rows) assert.ok(row.price.status !== 'OK' || typeof row.price.unitPrice === 'string');
  // The brand facet leaves out its own filter: it still counts every brand.
  assert.deepEqual(body.facets[0], facets[0]);
  const both = await get(`/search?account=${account}&brand=${encodeURIComponent(brand.value)}&category=${encodeURIComponent(category.value)}`);
  const want = engine.search(account, { filters: [{ brand: [brand.value] }, { category: [category.value] }] });
  assert.equal(both.body.total, want.total);
});

test('GET /health names the engine serving', async () => {
  const { status, body } = await get('/health');
  assert.equal(status, 200);
  assert.deepEqual(body, { status: 'ok', engineVersion: engine.engineVersion, warnings: engine.diagnostics().length });
});

test('GET /explain explains a line as the package does', async () => {
  const params = { account, ref: skus[0], qty: '3', at: '2026-06-01T00:00:00Z' };
  const { status, body } = await get(`/explain?${new URLSearchParams(params)}`);
  assert.equal(status, 200);
  const direct = engine.explain({ account, sku: skus[0], qty: '3', at: params.at });
  assert.deepEqual(body, JSON.parse(JSON.stringify(direct)));
  const nobody = await get(`/explain?${new URLSearchParams({ ...params, account: 'NOBODY' })}`);
  assert.equal(nobody.status, 404);
  assert.equal(nobody.body.error.code, 'UNKNOWN_ACCOUNT');
});

test('every request is logged with its route and status', async () => {
  const marker = `log-${Date.now()}`;
  await get(`/health?${marker}`);
  await get(`/quote?account=NOBODY&ref=x&qty=1&${marker}`);
  // A request's log lines (incoming, then completed) may follow its answer by a moment: wait
  // for both of both requests, up to 5 s.
  const logged = () => {
    // The last line may still be half written.
    const entries = log.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
      try { return [JSON.parse(l)]; } catch { return []; }
    });
    const incoming = entries.filter((e) => e.req?.url?.includes(marker));
    const completed = entries.filter((e) => e.res && incoming.some((i) => i.reqId === e.reqId));
    return { incoming, completed };
  };
  for (let i = 0; i < 250 && logged().completed.length < 2; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { incoming, completed } = logged();
  assert.deepEqual(incoming.map((e) => [e.req.method, e.req.url.split('?')[0]]), [['GET', '/health'], ['GET', '/quote']]);
  assert.deepEqual(completed.map((e) => e.res.statusCode), [200, 404]);
  assert.ok(completed.every((e) => typeof e.responseTime === 'number'));
});

test('unknown routes and methods are JSON errors too', async () => {
  const missing = await get('/nothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'NOT_FOUND');
  const wrong = await post('/quote', {});
  assert.equal(wrong.status, 405);
  assert.equal(wrong.body.error.code, 'METHOD_NOT_ALLOWED');
});
