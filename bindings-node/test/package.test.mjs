// The package's entry points: the ES module exports what the CommonJS one does, and a missing
// native addon is reported with the package to install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

test('the ES module entry exports every name of the CommonJS entry', async () => {
  const cjs = require('../tarif.cjs');
  const esm = await import('../tarif.mjs');
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort());
  assert.equal(esm.default, cjs);
});

test('package.json points require and import at the entry points', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.main, 'tarif.cjs');
  assert.deepEqual(manifest.exports['.'], { types: './tarif.d.ts', import: './tarif.mjs', require: './tarif.cjs' });
  for (const file of ['tarif.cjs', 'tarif.mjs', 'cli.cjs', 'index.js', 'index.d.ts', 'tarif.d.ts']) assert.ok(manifest.files.includes(file), file);
});

// The entry point and the generated loader alone in a folder: no addon beside them, no
// platform package to resolve.
function withoutAddon(optionalDependencies) {
  const dir = mkdtempSync(join(tmpdir(), 'tarif-no-addon-'));
  for (const file of ['tarif.cjs', 'index.js']) copyFileSync(join(pkg, file), join(dir, file));
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, optionalDependencies }));
  return () => createRequire(join(dir, 'x.js'))('./tarif.cjs');
}

test('a platform package that was not installed is named, with the command to install it', () => {
  const load = withoutAddon({ 'tarif-linux-x64-gnu': '0.1.0', 'tarif-darwin-arm64': '0.1.0' });
  assert.throws(load, (err) => {
    assert.equal(err.code, 'NATIVE_ADDON_MISSING');
    assert.match(err.message, /^cannot load the native addon of `tarif` for `linux-x64-gnu`/);
    assert.match(err.message, /npm install tarif-linux-x64-gnu@0\.1\.0/);
    assert.doesNotMatch(err.message, /npm bug/);
    assert.ok(err.cause instanceof Error);
    return true;
  });
});

test('a platform without a published addon says so', () => {
  const load = withoutAddon({ 'tarif-darwin-arm64': '0.1.0' });
  assert.throws(load, (err) => {
    assert.equal(err.code, 'NATIVE_ADDON_MISSING');
    assert.match(err.message, /has no native addon for this platform \(it has `tarif-darwin-arm64`\)/);
    return true;
  });
});
