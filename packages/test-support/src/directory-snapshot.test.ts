import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotDirectory } from './directory-snapshot.js';
import { tempDir } from './temp-dir.js';

test('a directory snapshot changes when a file anywhere below is created, changed or removed, and not for SQLite -shm files', () => {
  const dir = tempDir('snapshot');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'a'), 'one');
  const before = snapshotDirectory(dir);
  assert.deepEqual(Object.keys(before), ['sub/a']);
  writeFileSync(join(dir, 'db-shm'), 'rebuilt on open');
  assert.deepEqual(snapshotDirectory(dir), before);
  writeFileSync(join(dir, 'sub', 'a'), 'two');
  assert.notDeepEqual(snapshotDirectory(dir), before);
  writeFileSync(join(dir, 'sub', 'a'), 'one');
  writeFileSync(join(dir, 'b'), '');
  assert.deepEqual(Object.keys(snapshotDirectory(dir)), ['b', 'sub/a']);
});
