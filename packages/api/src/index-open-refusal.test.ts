import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '@silt/fs';
import { IndexDamagedError } from '@silt/segments';
import { Index } from './index-handle.js';
import { repairIndex } from './repair.js';
import { snapshotDirectory, tempDir } from '@silt/test-support';

test('a manifest emptied beside segment and log files refuses to open and stays empty: no new catalog is written over it', async () => {
  const dir = join(tempDir('empty-manifest'), 'idx');
  const index = await Index.open(dir, { autoMerge: false });
  try {
    await index.set('a', '1');
    await index.flush();
    await index.set('b', '2');
  } finally {
    await index.close();
  }
  truncateSync(join(dir, MANIFEST_FILE), 0);
  for (const suffix of ['-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  const before = snapshotDirectory(dir);
  await assert.rejects(Index.open(dir), (error: unknown) => {
    assert.ok(error instanceof IndexDamagedError, String(error));
    assert.match(error.message, /manifest\.sqlite is empty, but segments\/ holds \d+ segment file/);
    return true;
  });
  assert.deepEqual(snapshotDirectory(dir), before);
  const report = await repairIndex(dir);
  assert.deepEqual(report.lost, []);
  const repaired = await Index.open(dir);
  try {
    assert.equal(repaired.get('a'), '1');
    assert.equal(repaired.get('b'), '2');
  } finally {
    await repaired.close();
  }
});
