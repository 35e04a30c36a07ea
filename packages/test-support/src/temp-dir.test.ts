import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tempDir } from './temp-dir.js';

let madeByFirstTest: string | undefined;

test('tempDir gives a fresh, empty directory named for its label, a new one each call', () => {
  const first = tempDir('label-check');
  const second = tempDir('label-check');
  assert.notEqual(first, second);
  for (const dir of [first, second]) {
    assert.match(basename(dir), /^silt-label-check-/);
    assert.deepEqual(readdirSync(dir), []);
  }
  writeFileSync(join(first, 'file'), 'bytes');
  madeByFirstTest = first;
});

test('the directory and what it holds are gone once the test that made it has ended', () => {
  assert.ok(madeByFirstTest !== undefined, 'the first test ran');
  assert.equal(existsSync(madeByFirstTest), false);
});
