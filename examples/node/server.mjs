// A pricing service on Fastify over the `tarif` package.
//
//   node examples/node/server.mjs [--port 8080] [--rules rules.json]
//
//   GET  /health                                              the engine serving and its version
//   GET  /quote?account=…&ref=…&qty=…[&at=…][&currency=…]     one line, with the rules that applied
//   GET  /explain?account=…&ref=…&qty=…[&at=…][&currency=…]   every rule that spoke to the line
//   POST /cart   {"account", "lines": [{"ref", "qty"}], "at"?, "currency"?}   several lines at once
//   POST /orders/price?account=…[&at=…][&currency=…][&merge=0]   body: the order as a buyer
//        pastes or uploads it (`ref qty` lines or CSV, French or English headers); answers how
//        each input line was read and the priced order, line by line, with its subtotal
//   POST /quotes  {"account", "lines": [{"ref", "qty"}], "validUntil", "manualPrices"?, "at"?,
//        "currency"?, "user"?, "number"?}   a sales rep's quote: prices set by hand only within
//        the rules' floors, the order priced, and the document signed with TARIF_QUOTE_KEY for
//        the caller to store
//   POST /quotes/place  {"document", "at"?, "user"?, "spent"?}   the order placed at the quoted
//        prices, whatever the rules say now (403 QUOTE_TAMPERED, 410 QUOTE_EXPIRED)
//   GET  /search?account=…[&q=…][&brand=…][&category=…][&family=…][&attr.<name>=…]
//                [&min.<name>=…][&max.<name>=…][&facets=brand,category,<attr>,…]
//                [&sort=sku|<attr>|-<attr>][&capability=see|price|buy][&variants=1]
//                [&qty=…][&currency=…][&at=…][&offset=0][&limit=50][&cursor=…]
//        one page of the account's own catalog: repeated values of one filter are any-of,
//        filters all-of; facets count what each value would give; `next` is the cursor of the
//        following page; `qty` prices every row.
//
// The quote routes sign with the key in TARIF_QUOTE_KEY (at least 16 bytes; without it they
// answer 503 QUOTES_DISABLED). Every request is logged (Fastify's logger, one JSON line each on stdout). Errors answer with
// `{"error": {code, message, details?}}` and the HTTP status of their stable code. Without
// --rules it serves the generated sample distributor. With --rules, `kill -HUP` reloads the file
// in the background and swaps it in atomically; a file that does not compile is reported and
// the running rules stay.
import Fastify from 'fastify';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine, EngineHandle } from 'tarif';
import { sampleDocument } from 'tarif/sample';

const MAX_BODY = 1 << 20;
const MAX_CART_LINES = 10_000;

// Which HTTP status each stable error code answers with.
const STATUS = {
  INVALID_INPUT: 400,
  INVALID_TYPE: 400,
  FLOAT_REJECTED: 400,
  INVALID_TEXT: 400,
  INVALID_QUERY: 400,
  INVALID_RELATION_KIND: 400,
  INVALID_QUANTITY: 400,
  INVALID_INSTANT: 400,
  UNKNOWN_CURRENCY: 400,
  INVALID_BATCH: 400,
  INVALID_CURSOR: 400,
  INVALID_JSON: 400,
  QUOTE_INVALID: 400,
  PRICE_HIDDEN: 403,
  QUOTE_TAMPERED: 403,
  UNKNOWN_ACCOUNT: 404,
  UNKNOWN_PRODUCT: 404,
  UNKNOWN_USER: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  QUOTE_EXPIRED: 410,
  BODY_TOO_LARGE: 413,
  QUANTITY_RULE: 422,
  INVALID_ORDER_TEXT: 422,
  NO_PRICE: 422,
  MINIMUM_ORDER: 422,
  QUOTES_DISABLED: 503,
};

// Fastify's own errors, by their code, as the service's.
const FASTIFY_CODES = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'INVALID_INPUT',
};

class HttpError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// A query-string quantity stays a string: the engine reads it as an exact decimal.
function optional(params, name) {
  return params.get(name) ?? undefined;
}

function integerParam(params, name, fallback, max) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) {
    throw new HttpError('INVALID_INPUT', `\`${name}\` must be an integer from 0 to ${max}`);
  }
  return Number(raw);
}

// Exact sum of decimal strings (floats would lose cents).
function sumDecimals(values) {
  const scale = Math.max(0, ...values.map((v) => (v.split('.')[1] ?? '').length));
  const scaled = (v) => {
    const [whole, fraction = ''] = v.split('.');
    const negative = whole.startsWith('-');
    const digits = BigInt(`${whole.replace('-', '')}${fraction.padEnd(scale, '0')}`);
    return negative ? -digits : digits;
  };
  const total = values.reduce((acc, v) => acc + scaled(v), 0n);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

// The query string as a line to price: `ref` is the reference the buyer typed.
function line(params) {
  return {
    account: optional(params, 'account'),
    sku: optional(params, 'ref'),
    qty: optional(params, 'qty'),
    at: optional(params, 'at'),
    currency: optional(params, 'currency'),
  };
}

async function cart(handle, body) {
  if (typeof body !== 'object' || body === null || !Array.isArray(body.lines) || body.lines.length === 0) {
    throw new HttpError('INVALID_INPUT', 'the body must be {"account", "lines": [{"ref", "qty"}, …]}');
  }
  if (body.lines.length > MAX_CART_LINES) {
    throw new HttpError('INVALID_INPUT', `a cart has at most ${MAX_CART_LINES} lines`);
  }
  const lines = body.lines.map((l) => l ?? {});
  const priced = await handle.quoteMany({
    accounts: lines.map(() => body.account),
    skus: lines.map((l) => l.ref),
    qtys: lines.map((l) => l.qty),
    at: body.at ?? undefined,
    currency: body.currency ?? undefined,
  });
  const out = lines.map((l, i) => ({
    ref: l.ref,
    qty: String(l.qty),
    status: priced.status[i],
    unitPrice: priced.unitPrice[i],
    lineTotal: priced.lineTotal[i],
    currency: priced.currency[i],
    buyable: priced.buyable[i],
  }));
  const ok = out.filter((l) => l.status === 'OK');
  const totals = {};
  for (const currency of new Set(ok.map((l) => l.currency))) {
    totals[currency] = sumDecimals(ok.filter((l) => l.currency === currency).map((l) => l.lineTotal));
  }
  // A cart can be ordered as it is when every line priced and may be bought.
  const complete = ok.length === out.length && ok.every((l) => l.buyable);
  return { lines: out, totals, complete, engineVersion: handle.engineVersion };
}

// A pasted or uploaded order: each input line read and resolved for the account, then the lines
// that resolved priced together as one order, on one engine even if a reload swaps meanwhile.
function priceOrderText(handle, text, params) {
  const engine = handle.current();
  const account = optional(params, 'account');
  const at = optional(params, 'at');
  const read = engine.parseOrderLines({ account, text, at, mergeDuplicates: params.get('merge') !== '0' });
  const lines = read.lines
    .filter((l) => !l.error)
    .map((l) => ({ sku: l.sku, qty: l.qty, costCentre: l.costCentre ?? undefined, shipTo: l.shipTo ?? undefined }));
  const order = engine.priceOrder({ account, at, currency: optional(params, 'currency'), lines });
  return { format: read.format, read: read.lines, order };
}

function quoteKey(key) {
  if (!key) throw new HttpError('QUOTES_DISABLED', 'quotes are disabled: start the service with TARIF_QUOTE_KEY set');
  return key;
}

// A sales rep's quote: the engine checks each manual price against the rules' bounds (a price
// outside is its line's PRICE_BOUND error and no document is issued) and signs the document.
function prepareQuote(handle, body, key) {
  if (typeof body !== 'object' || body === null || !Array.isArray(body.lines)) {
    throw new HttpError('INVALID_INPUT', 'the body must be {"account", "lines": [{"ref", "qty"}], "validUntil", …}');
  }
  const { order, document } = handle.prepareQuote({
    account: body.account,
    lines: body.lines,
    at: body.at ?? undefined,
    currency: body.currency ?? undefined,
    user: body.user ?? undefined,
    manualPrices: body.manualPrices ?? undefined,
    validUntil: body.validUntil,
    number: body.number ?? undefined,
    key: quoteKey(key),
  });
  return { order, document };
}

function placeQuote(handle, body, key) {
  if (typeof body !== 'object' || body === null || typeof body.document !== 'string') {
    throw new HttpError('INVALID_INPUT', 'the body must be {"document", "at"?, "user"?, "spent"?}');
  }
  return handle.placeQuote({
    document: body.document,
    key: quoteKey(key),
    at: body.at ?? undefined,
    user: body.user ?? undefined,
    spent: body.spent ?? undefined,
  });
}

const FACET_KINDS = new Set(['brand', 'category', 'family']);

// The query string as a search query: `brand`, `category`, `family` and `attr.<name>` may repeat
// (any-of), `min.<name>` / `max.<name>` bound a numeric attribute, `facets` is a comma list where
// any name but brand, category and family is an attribute, `sort=-<attr>` is descending.
function searchQuery(params) {
  const filters = [];
  for (const kind of FACET_KINDS) {
    const ids = params.getAll(kind);
    if (ids.length > 0) filters.push({ [kind]: ids });
  }
  const ranges = new Map();
  for (const [key, value] of params) {
    const [prefix, ...rest] = key.split('.');
    const name = rest.join('.');
    if (name === '') continue;
    if (prefix === 'attr' && !filters.some((f) => f.attr === name && f.anyOf)) {
      filters.push({ attr: name, anyOf: params.getAll(key) });
    } else if (prefix === 'min' || prefix === 'max') {
      ranges.set(name, { ...ranges.get(name), [prefix]: value });
    }
  }
  for (const [name, bounds] of ranges) filters.push({ attr: name, ...bounds });
  const query = {
    filters,
    facets: (params.get('facets') ?? '')
      .split(',')
      .filter((f) => f !== '')
      .map((f) => (FACET_KINDS.has(f) ? f : { attr: f })),
    text: optional(params, 'q'),
    capability: optional(params, 'capability'),
    offset: integerParam(params, 'offset', 0, Number.MAX_SAFE_INTEGER),
    limit: integerParam(params, 'limit', 50, 500),
    cursor: optional(params, 'cursor'),
    groupVariants: params.get('variants') === '1',
    priceQty: optional(params, 'qty'),
    currency: optional(params, 'currency'),
  };
  const sort = params.get('sort');
  if (sort !== null && sort !== 'sku') {
    query.sort = sort.startsWith('-') ? { attr: sort.slice(1), descending: true } : { attr: sort };
  }
  return query;
}

function search(handle, params) {
  const account = optional(params, 'account');
  const query = searchQuery(params);
  // One engine for the page and the version it reports, even if a reload swaps meanwhile.
  const engine = handle.current();
  const page = engine.search(account, query, optional(params, 'at'));
  return { account, offset: query.offset, limit: query.limit, ...page, engineVersion: engine.engineVersion };
}

// The raw query string, as `URLSearchParams`: repeated keys and dotted names stay as written.
const paramsOf = (request) => new URL(request.url, 'http://localhost').searchParams;

/**
 * The service over `handle`, not yet listening; `logger` is Fastify's logger option, `quoteKey`
 * the key that signs and checks sales quotes.
 */
export function createServer(handle, { logger = true, quoteKey: key = undefined } = {}) {
  const app = Fastify({ logger, bodyLimit: MAX_BODY });

  app.setErrorHandler((err, request, reply) => {
    const code = FASTIFY_CODES[err.code] ?? err.code;
    const status = STATUS[code];
    if (status === undefined) {
      request.log.error(err);
      return reply.code(500).send({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    }
    // The rest of an oversized body is never read: the connection cannot be reused.
    if (code === 'BODY_TOO_LARGE') reply.header('connection', 'close');
    const error = { code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return reply.code(status).send({ error });
  });

  const routes = new Map([
    ['/health', ['GET', () => ({ status: 'ok', engineVersion: handle.engineVersion, warnings: handle.diagnostics().length })]],
    ['/quote', ['GET', (request) => handle.quote(line(paramsOf(request)))]],
    ['/explain', ['GET', (request) => handle.explain(line(paramsOf(request)))]],
    ['/search', ['GET', (request) => search(handle, paramsOf(request))]],
    ['/cart', ['POST', (request) => cart(handle, request.body)]],
    ['/quotes', ['POST', (request) => prepareQuote(handle, request.body, key)]],
    ['/quotes/place', ['POST', (request) => placeQuote(handle, request.body, key)]],
  ]);
  for (const [url, [method, handler]] of routes) {
    app.route({ method, url, handler: async (request) => handler(request) });
  }
  // A pasted order is text whatever its declared type (text/plain, text/csv, a browser's
  // upload, a client that says JSON): its own scope reads every body as a string.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.post('/orders/price', async (request) => priceOrderText(handle, request.body ?? '', paramsOf(request)));
  });
  app.setNotFoundHandler((request) => {
    const { pathname } = new URL(request.url, 'http://localhost');
    if (routes.has(pathname) || pathname === '/orders/price') {
      throw new HttpError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${pathname}`);
    }
    throw new HttpError('NOT_FOUND', `no route ${pathname}`);
  });
  return app;
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, rules: { type: 'string' } } });
  const engine = values.rules ? await Engine.load(values.rules) : Engine.fromJson(sampleDocument());
  const handle = new EngineHandle(engine);
  const quoteKey = process.env.TARIF_QUOTE_KEY;
  if (quoteKey !== undefined && Buffer.byteLength(quoteKey) < 16) {
    console.error('TARIF_QUOTE_KEY must hold at least 16 bytes');
    process.exit(2);
  }
  const app = createServer(handle, { quoteKey });
  if (values.rules) {
    process.on('SIGHUP', () => {
      handle.reload(values.rules).then(
        (next) => app.log.info(`reloaded ${values.rules}: ${next.engineVersion}`),
        (err) => app.log.error(`reload failed, keeping ${handle.engineVersion}: ${err.code}: ${err.message}`),
      );
    });
  }
  const address = await app.listen({ port: Number(values.port), host: '127.0.0.1' });
  console.log(`tarif listening on ${address} (rules ${handle.engineVersion})`);
  const stop = () => app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
