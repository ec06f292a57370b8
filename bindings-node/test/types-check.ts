// Typed usage of the package, checked by `tsc --noEmit` (types.test.mjs): the committed
// index.d.ts must describe what a TypeScript service writes against it.
import {
  Engine,
  EngineHandle,
  sampleDocument,
  type BatchOutput,
  type CapabilitiesResult,
  type DiagnosticInfo,
  type ExplainResult,
  type QuoteInput,
  type QuoteResult,
} from '../index.js';

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

  // @ts-expect-error: a quantity is a string or a number, never a boolean
  engine.quote({ account: 'ACME', sku: 'DR-18V-01', qty: true });
  // @ts-expect-error: the account is required
  engine.quote({ sku: 'DR-18V-01', qty: 1 });
  // @ts-expect-error: money comes back as a string, not a number
  const wrong: number = quote.lineTotal;

  void [loaded, unit, list, rules, stage, text, decided, caps, sku, warnings, version, skus, statuses, next, previous, current, viaHandle, batchViaHandle, wrong];
}

void service;
