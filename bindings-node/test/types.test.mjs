// The TypeScript declarations: they type-check a real usage file, and they are what a rebuild
// generates (index.d.ts and index.js are committed; `npm run build` regenerates them in place).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));

test('tsc --noEmit accepts the typed usage file', () => {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'test/tsconfig.json'], {
    cwd: pkg,
    encoding: 'utf8',
  });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});

test('the committed index.d.ts and index.js are what the build generated', (t) => {
  const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: pkg, encoding: 'utf8' });
  if (inGit.status !== 0) {
    t.skip('not a git checkout: nothing committed to compare with');
    return;
  }
  const tracked = execFileSync('git', ['ls-files', 'index.d.ts', 'index.js'], { cwd: pkg, encoding: 'utf8' });
  assert.deepEqual(tracked.trim().split('\n').sort(), ['index.d.ts', 'index.js'], 'index.d.ts and index.js must be committed');
  const diff = spawnSync('git', ['diff', '--exit-code', '--', 'index.d.ts', 'index.js'], { cwd: pkg, encoding: 'utf8' });
  assert.equal(diff.status, 0, `the build changed the generated files; commit them:\n${diff.stdout}`);
});
