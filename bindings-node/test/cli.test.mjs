// `npx tarif` (cli.cjs): the Rust command run by the addon, with its output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AT, sampleDocument } from './helpers.mjs';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.cjs');
const rules = join(mkdtempSync(join(tmpdir(), 'tarif-cli-')), 'rules.json');
writeFileSync(rules, sampleDocument());

const tarif = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('check summarises the document and exits 0', () => {
  const run = tarif('check', rules);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.startsWith(`ok: \`${rules}\` compiles: `), run.stdout);
});

test('quote --json gives the library quote', () => {
  const run = tarif('quote', rules, 'I-VOLTA-LYON', 'CAB-NEX-R2V3G-2.5', '100', '--at', '2027-03-18T10:00:00+01:00', '--json');
  assert.equal(run.status, 0, run.stderr);
  const answer = JSON.parse(run.stdout);
  assert.deepEqual([answer.unit_price, answer.line_total], ['1.46', '146.00']);
});

test('a query error exits 3 with its code, a usage error 2', () => {
  const run = tarif('lookup', rules, 'R-ELECDIS', 'NO-SUCH-REF', '--at', AT);
  assert.equal(run.status, 3);
  assert.equal(run.stderr.trim(), 'error[UNKNOWN_PRODUCT]: unknown product `NO-SUCH-REF`');
  const usage = tarif('frobnicate');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /Usage: tarif \[OPTIONS\] <COMMAND>/);
});
