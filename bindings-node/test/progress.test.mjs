// onProgress: compile phases (fromJson, fromFile, load, apply) and the rows a batch priced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, EngineHandle, SLICE_ROWS, sampleDocument } from './helpers.mjs';

const sampleText = sampleDocument();
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function recorder() {
  const seen = [];
  return { seen, onProgress: (...args) => seen.push(args) };
}

// Every phase once, in order, `done` counting up to `total`, then `done`.
function assertPhases(seen) {
  assert.ok(seen.length > 2, JSON.stringify(seen));
  const total = seen[0][2];
  assert.deepEqual(seen[0], ['parse', 0, total]);
  assert.deepEqual(seen.at(-1), ['done', total, total]);
  assert.deepEqual(seen.map(([, done]) => done), [...Array(total + 1).keys()]);
}

test('fromJson and fromFile report each phase of the compile while it runs', () => {
  const json = recorder();
  Engine.fromJson(sampleText, json);
  assertPhases(json.seen);
  const path = join(mkdtempSync(join(tmpdir(), 'tarif-progress-')), 'rules.json');
  writeFileSync(path, sampleText);
  const file = recorder();
  Engine.fromFile(path, { strict: false, onProgress: file.onProgress });
  assertPhases(file.seen);
});

test('a rejected document still reports done, and throws its COMPILE_ERROR', () => {
  const { seen, onProgress } = recorder();
  assert.throws(
    () => Engine.fromJson('{"format": "tarif/1", "products": [{"sku": ""}]}', { onProgress }),
    (err) => err.code === 'COMPILE_ERROR',
  );
  assert.equal(seen.at(-1)[0], 'done');
});

test('what onProgress throws is thrown once the compile is over, and it is called no more', () => {
  const calls = [];
  assert.throws(
    () => Engine.fromJson(sampleText, { onProgress: (phase) => { calls.push(phase); throw new Error('bar closed'); } }),
    /bar closed/,
  );
  assert.deepEqual(calls, ['parse']);
});

test('load, reload and apply report on the event loop', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tarif-progress-')), 'rules.json');
  writeFileSync(path, sampleText);
  const loaded = recorder();
  const engine = await Engine.load(path, loaded);
  const handle = new EngineHandle(engine);
  const reloaded = recorder();
  await handle.reload(path, reloaded);
  const applied = recorder();
  await engine.apply({ format: 'tarif/1-changes' }, applied);
  await nextTurn();
  for (const { seen } of [loaded, reloaded, applied]) {
    assertPhases(seen);
  }
});

test('quoteMany reports the rows priced, each count once, up to every row, small batches and sliced ones', async () => {
  const engine = Engine.fromJson(sampleText);
  const { accounts } = JSON.parse(sampleText);
  const sku = engine.skus()[0];
  for (const rows of [3, SLICE_ROWS * 20]) {
    const input = {
      accounts: Array(rows).fill(accounts[0].id),
      skus: Array(rows).fill(sku),
      qtys: Array(rows).fill('1'),
      at: '2026-06-01',
    };
    const { seen, onProgress } = recorder();
    const out = await engine.quoteMany(input, undefined, { onProgress });
    assert.equal(out.status.length, rows);
    await nextTurn();
    assert.deepEqual(seen.at(-1), [rows, rows], `${rows} rows`);
    assert.ok(seen.every(([done, total], i) => total === rows && (i === 0 || done > seen[i - 1][0])));
  }
});
