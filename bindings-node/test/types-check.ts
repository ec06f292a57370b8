// Typed usage of the package, checked by `tsc --noEmit` (types.test.mjs): the committed
// index.d.ts must describe what a TypeScript service writes against it.
import {
  Engine,
  EngineHandle,
  type BatchOutput,
  type CapabilitiesResult,
  type PreparedQuoteResult,
  type PricedOrderResult,
  type DiagnosticInfo,
  type ExplainResult,
  type QuoteInput,
  type QuoteResult,
  type RelatedProduct,
  type SearchPage,
  type SearchQuery,
} from '../index.js';
import { TarifError, type TarifErrorCode } from '../tarif.js';
import { sampleDocument } from '../sample.js';

async function service(): Promise<void> {
  const engine: Engine = Engine.fromJson(sampleDocument(), { strict: false });
  const fromFile: Engine = Engine.fromFile('/tmp/rules.json');
  const loaded: Engine = await Engine.load('/tmp/rules.json', undefined, new AbortController().signal);

  const input: QuoteInput = { account: 'ACME', sku: 'DR-18V-01', qty: '2.5', at: new Date(), currency: 'EUR' };
  const quote: QuoteResult = engine.quote(input);
  const unit: string = quote.unitPrice;
  const list: string | null = quote.listPrice;
  const rules: string[] = quote.steps.map((s) => `${s.rule} ${s.before ?? '-'} → ${s.after} ${s.notes.join(',')}`);
  const stage: 'unit' | 'line' = quote.stage;
  engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: 3, at: '2026-03-01' });

  const why: ExplainResult = engine.explain(input);
  const text: string = why.text;
  const decided: string | null = why.visibility.decidedBy.buy;
  const caps: CapabilitiesResult = engine.visibility({ account: 'ACME', sku: 'DR-18V-01' });
  const sku: string = engine.lookup({ account: 'ACME', ref: '3401234567890', at: new Date() });
  const warnings: DiagnosticInfo[] = engine.diagnostics();
  const version: string = engine.engineVersion;
  const skus: string[] = engine.skus();

  const batch: BatchOutput = await engine.quoteMany(
    { accounts: ['ACME'], skus: ['DR-18V-01'], qtys: ['1'], at: [new Date()], currency: 'EUR' },
    AbortSignal.timeout(1000),
  );
  const statuses: string[] = batch.status;

  const handle = new EngineHandle(engine);
  const next: Engine = await handle.reload('/tmp/rules.json', { strict: true });
  const previous: Engine = handle.swap(fromFile);
  const current: Engine = handle.current();
  const viaHandle: QuoteResult = handle.quote(input);
  const batchViaHandle: Promise<BatchOutput> = handle.quoteMany({ accounts: [], skus: [], qtys: [] });

  const query: SearchQuery = {
    filters: [
      { attr: 'color', anyOf: ['blue', 'red'] },
      { attr: 'voltage', min: '12', max: 18 },
      { category: ['tools'] },
      { brand: ['Bosch'] },
      { family: ['DR'] },
    ],
    text: 'dr-',
    capability: 'buy',
    sort: { attr: 'voltage', descending: true },
    offset: 0,
    limit: 20,
    facets: ['brand', 'category', 'family', { attr: 'color' }],
    groupVariants: true,
    priceQty: '2',
    currency: 'EUR',
  };
  const page: SearchPage = engine.search('ACME', query, new Date());
  const firstPage: SearchPage = handle.search('ACME');
  const total: number = page.total;
  const cursor: string | null = page.next;
  const more: SearchPage = engine.search('ACME', { ...query, cursor: cursor ?? undefined }, '2026-03-01');
  const rowSkus: string[] = page.rows.map((r) => `${r.sku} ${r.name ?? ''} ${r.capabilities.buy}`);
  const axes: Record<string, string> = page.rows[0].variants[0].axes;
  const price: string | null | undefined = page.rows[0].price?.unitPrice;
  const counts: Array<[string, number]> = page.facets.flatMap((f) => f.values.map((v): [string, number] => [`${f.kind}:${f.name}:${v.value}`, v.count]));
  const related: RelatedProduct[] = engine.related('ACME', 'DR-18V-01', 'accessories');
  const replacement: RelatedProduct[] = handle.related('ACME', 'DR-18V-01', 'replacement', new Date());
  // @ts-expect-error: a relation kind is one of the five names
  engine.related('ACME', 'DR-18V-01', 'accessory');
  // @ts-expect-error: a capability is see, price or buy
  engine.search('ACME', { capability: 'order' });

  const order: PricedOrderResult = engine.priceOrder({
    account: 'ACME', at: new Date(), user: 'paul', spent: { 'CC-1': '950.00' },
    lines: [{ ref: 'DR-18V-01', qty: 2, costCentre: 'CC-1', shipTo: 'DEPOT' }],
  });
  const decision: 'allowed' | 'needs_approval' | 'refused' = order.approval.decision;
  const prepared: PreparedQuoteResult = engine.prepareQuote({
    account: 'ACME', lines: [{ ref: 'DR-18V-01', qty: '2' }], manualPrices: ['99.00', null],
    validUntil: '2026-04-01', key: Buffer.from('the sales team key'), number: 'DEV-42',
  });
  const document: string | null = prepared.document;
  const placed: PricedOrderResult = handle.placeQuote({ document: document ?? '', key: 'the sales team key', at: new Date() });
  const origin: 'manual' | 'quote' | undefined = placed.overrides[0]?.origin;
  const changed: boolean | undefined = placed.placedQuote?.rulesChanged;
  // @ts-expect-error: money is a decimal string, never a number
  engine.prepareQuote({ account: 'ACME', lines: [], manualPrices: [99], validUntil: '2026-04-01', key: 'k' });

  // @ts-expect-error: a quantity is a string or a number, never a boolean
  engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: true });
  // @ts-expect-error: the account is required
  engine.quote({ sku: 'DR-18V-01', qty: 1 });
  // @ts-expect-error: money comes back as a string, not a number
  const wrong: number = quote.lineTotal;

  try {
    Engine.fromJson('{}', { onProgress: (phase: string, done: number, total: number) => console.log(phase, done, total) });
    await engine.quoteMany({ accounts: [], skus: [], qtys: [] }, undefined, { onProgress: (done, total) => console.log(done / total) });
  } catch (err) {
    if (err instanceof TarifError) {
      const code: TarifErrorCode = err.code;
      const known: readonly TarifErrorCode[] = TarifError.codes;
      // @ts-expect-error: a code is one of the union's
      const unknown: TarifErrorCode = 'NO_SUCH_CODE';
      void [code, known, unknown, err.details];
    }
  }

  void [loaded, unit, list, rules, stage, text, decided, caps, sku, warnings, version, skus, statuses, next, previous, current, viaHandle, batchViaHandle, wrong,
    firstPage, total, more, rowSkus, axes, price, counts, related, replacement, decision, origin, changed];
}

void service;
