// Snapshots: `engine.save(path)` and `Engine.open(path)` (promises, on the libuv pool) and their
// blocking twins give back an engine that answers as the compiled one; a damaged, foreign or
// unreadable file rejects with a stable `err.code`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, FIXTURES as fixtures, fixtureFiles, sampleDocument, smallEngine, thrown, AT } from './helpers.mjs';



function scratch() {
  return mkdtempSync(join(tmpdir(), 'tarif-snapshot-'));
}

// A case's answer, or the code it fails with: enough to compare two engines.
function answer(engine, c) {
  try {
    switch (c.op) {
      case 'quote':
        return engine.quote({ account: c.account, sku: c.ref, qty: String(c.qty), at: c.at, currency: c.currency ?? undefined });
      case 'visibility':
        return engine.visibility({ account: c.account, sku: c.ref, at: c.at });
      case 'lookup':
        return engine.lookup({ account: c.account, ref: c.ref, at: c.at });
      case 'related':
        return engine.related(c.account, c.ref, c.kind, c.at);
      case 'search':
        return engine.search(c.account, {}, c.at).rows.map((r) => r.sku);
      default:
        return `op ${c.op}`;
    }
  } catch (err) {
    return { error: err.code };
  }
}

function sameEngine(a, b) {
  assert.equal(b.engineVersion, a.engineVersion);
  assert.deepEqual(b.diagnostics(), a.diagnostics());
}

test('the sample round-trips through a snapshot file', async () => {
  const dir = scratch();
  try {
    const engine = Engine.fromJson(sampleDocument());
    const path = join(dir, 'sample.snap');
    assert.equal(await engine.save(path), undefined);
    const opened = await Engine.open(path);
    sameEngine(engine, opened);
    const line = { account: 'R-ELECDIS', sku: 'DRL-MAK-DHP487-K5-L', qty: '3', at: '2027-03-18' };
    assert.deepEqual(opened.quote(line), engine.quote(line));
    engine.saveSync(join(dir, 'sync.snap'));
    sameEngine(engine, Engine.openSync(join(dir, 'sync.snap')));
    assert.deepEqual(readFileSync(join(dir, 'sync.snap')), readFileSync(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every fixture document answers the same after save and open', async () => {
  const dir = scratch();
  let documents = 0;
  try {
    for (const file of fixtureFiles(fixtures)) {
      const fixture = JSON.parse(readFileSync(file, 'utf8'));
      let engine;
      try {
        engine = Engine.fromJson(JSON.stringify(fixture.document));
      } catch (err) {
        if (err.code === 'COMPILE_ERROR') continue;
        throw err;
      }
      documents += 1;
      const path = join(dir, `${documents}.snap`);
      await engine.save(path);
      const opened = await Engine.open(path);
      sameEngine(engine, opened);
      for (const c of fixture.cases ?? []) {
        assert.deepEqual(answer(opened, c), answer(engine, c), `${file}: ${c.name}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(documents >= 25, `only ${documents} documents`);
});

test('damaged, foreign and future-format files reject with their codes', async () => {
  const dir = scratch();
  try {
    const path = join(dir, 'small.snap');
    smallEngine().saveSync(path);
    const whole = readFileSync(path);
    const code = async (bytes) => {
      writeFileSync(path, bytes);
      const err = await Engine.open(path).then(() => null, (e) => e);
      assert.ok(err instanceof Error);
      assert.equal(thrown(() => Engine.openSync(path)).code, err.code);
      return err;
    };
    for (const length of [0, 5, 12, 54, whole.length >> 1, whole.length - 1]) {
      assert.equal((await code(whole.subarray(0, length))).code, 'SNAPSHOT_CORRUPT', `cut at ${length}`);
    }
    for (let at = 12; at < whole.length; at += 11) {
      const flipped = Buffer.from(whole);
      flipped[at] ^= 0xff;
      assert.equal((await code(flipped)).code, 'SNAPSHOT_CORRUPT', `flipped at ${at}`);
    }
    const foreign = await code(Buffer.from(JSON.stringify({ format: 'tarif/1' })));
    assert.equal(foreign.code, 'SNAPSHOT_CORRUPT');
    assert.match(foreign.message, /not a tarif snapshot/);
    assert.ok(foreign.message.includes(path));
    const future = Buffer.from(whole);
    future.writeUInt32LE(999, 8);
    const err = await code(future);
    assert.equal(err.code, 'SNAPSHOT_VERSION');
    assert.match(err.message, /`999`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file rejects with IO_ERROR and a path must be a string', async () => {
  const err = await Engine.open('/nonexistent/rules.snap').then(() => null, (e) => e);
  assert.equal(err.code, 'IO_ERROR');
  assert.match(err.message, /\/nonexistent\/rules\.snap/);
  assert.equal(thrown(() => Engine.open(42)).code, 'INVALID_TYPE');
  assert.equal(thrown(() => smallEngine().saveSync({})).code, 'INVALID_TYPE');
});

test('a failed save leaves the existing file untouched', async () => {
  const dir = scratch();
  try {
    const path = join(dir, 'rules.snap');
    writeFileSync(path, 'the previous snapshot');
    const engine = smallEngine();
    const inner = await engine.save(join(path, 'inner.snap')).then(() => null, (e) => e);
    assert.equal(inner.code, 'IO_ERROR');
    mkdirSync(join(dir, 'blocked'));
    assert.equal(thrown(() => engine.saveSync(join(dir, 'blocked'))).code, 'IO_ERROR');
    assert.equal(readFileSync(path, 'utf8'), 'the previous snapshot');
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'rules.snap']);
    await engine.save(path);
    assert.equal((await Engine.open(path)).quote({ account: 'ACME', sku: 'DR-18V-01', qty: '1', at: AT }).engineVersion, engine.engineVersion);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
