// TarifError: the class of every error the package throws, and the TypeScript union of its codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, sampleDocument, tarif } from './helpers.mjs';
import * as esm from '../tarif.mjs';

const { TarifError } = tarif;
const engine = Engine.fromJson(sampleDocument());

test('TarifError is exported by both entry points, with every code', () => {
  assert.equal(esm.TarifError, TarifError);
  assert.ok(Object.isFrozen(TarifError.codes));
  for (const code of ['UNKNOWN_ACCOUNT', 'COMPILE_ERROR', 'IMPORT_ERROR', 'ABORT_ERR', 'NATIVE_ADDON_MISSING']) {
    assert.ok(TarifError.codes.includes(code), code);
  }
});

test('thrown and rejected errors are TarifErrors with their code and details', async () => {
  const thrown = (work) => {
    try {
      work();
    } catch (err) {
      return err;
    }
    assert.fail('did not throw');
  };
  const compile = thrown(() => Engine.fromJson('{"format": "tarif/1", "bogus": 1}'));
  assert.ok(compile instanceof TarifError && compile instanceof Error);
  assert.equal(compile.name, 'TarifError');
  assert.equal(compile.code, 'COMPILE_ERROR');
  assert.equal(compile.details[0].code, 'UNKNOWN_FIELD');
  assert.match(compile.stack, /TarifError/);

  const query = thrown(() => engine.quote({ account: 'NOBODY', sku: engine.skus()[0], qty: '1' }));
  assert.ok(query instanceof TarifError);
  assert.equal(query.code, 'UNKNOWN_ACCOUNT');
  assert.equal(query.details.account, 'NOBODY');

  const input = thrown(() => engine.quote({ account: 'NOBODY', sku: 'X', qty: 1.5 }));
  assert.ok(input instanceof TarifError);
  assert.equal(input.code, 'FLOAT_REJECTED');

  const dir = mkdtempSync(join(tmpdir(), 'tarif-error-'));
  // Each call starts when the previous one has been answered: a second promise made up front
  // could reject before the loop attaches its handler, which Node reports as unhandled.
  const missing = join(dir, 'missing.json');
  for (const start of [() => Engine.load(missing), () => Engine.importTables(missing)]) {
    const err = await start().then(() => assert.fail('resolved'), (e) => e);
    assert.ok(err instanceof TarifError, String(err));
    assert.ok(TarifError.codes.includes(err.code), err.code);
  }

  const controller = new AbortController();
  controller.abort();
  const aborted = await Engine.load(join(dir, 'missing.json'), null, controller.signal).then(
    () => assert.fail('resolved'),
    (e) => e,
  );
  assert.ok(aborted instanceof TarifError);
  assert.equal(aborted.name, 'AbortError');
  assert.equal(aborted.code, 'ABORT_ERR');
});

test('the TarifErrorCode union of tarif.d.ts is exactly the codes the addon reports', () => {
  const typings = readFileSync(new URL('../tarif.d.ts', import.meta.url), 'utf8');
  const union = typings.match(/export type TarifErrorCode =([^]*?)\n\n/);
  assert.ok(union, 'tarif.d.ts declares TarifErrorCode');
  const declared = [...union[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
  assert.deepEqual([...declared].sort(), [...TarifError.codes].sort());
  assert.equal(new Set(declared).size, declared.length, 'a code is listed twice');
});
