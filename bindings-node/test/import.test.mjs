// Engine.importTables: the importer's fixtures (tests/fixtures/import/) through Node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Engine } from '../tarif.mjs';

const dir = (name) => fileURLToPath(new URL(`../../tests/fixtures/import/${name}/`, import.meta.url));

test('csv tables give the document written by hand', async () => {
  const engine = await Engine.importTables(`${dir('good')}manifest.json`);
  const expected = Engine.fromJson(readFileSync(`${dir('good')}expected.json`, 'utf8'));
  assert.equal(engine.engineVersion, expected.engineVersion);
});

test('bad tables reject with every problem and its place', async () => {
  await assert.rejects(Engine.importTables(`${dir('bad-values')}manifest.json`), (err) => {
    assert.equal(err.code, 'IMPORT_ERROR');
    const places = err.details.map((d) => `${d.code} ${d.location}`);
    assert.ok(places.includes('IMPORT_INVALID_VALUE prices.csv:2:price'), places.join('\n'));
    assert.ok(places.includes('IMPORT_DUPLICATE products.csv:5:sku'), places.join('\n'));
    return true;
  });
});

test('compile diagnostics come back to their rows', async () => {
  await assert.rejects(Engine.importTables(`${dir('bad-compile')}manifest.json`), (err) => {
    assert.equal(err.code, 'COMPILE_ERROR');
    const ghost = err.details.find((d) => d.code === 'UNKNOWN_REFERENCE' && d.file === 'prices.csv');
    assert.deepEqual([ghost.row, ghost.column, ghost.path], [4, 'sku', 'price_lists[0].prices[1].sku']);
    return true;
  });
});

test('a manifest path that is not a string throws INVALID_TYPE', () => {
  assert.throws(() => Engine.importTables(42), { code: 'INVALID_TYPE' });
});
