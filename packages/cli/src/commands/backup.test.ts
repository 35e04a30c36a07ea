import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index, type BackupReport } from 'silt';
import { listTree, runSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';

test('backup copies an index its writer holds open, and the copy verifies and opens; a used destination exits 1 and is left alone', async () => {
  const work = tempDir('cli-backup');
  const dir = join(work, 'idx');
  // No flush timer and no merges: the index changes only when the test says so.
  const index = await Index.open(dir, { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 });
  try {
    await index.mset(Array.from({ length: 1000 }, (_, i) => [`key:${i}`, `value ${i}`] as [string, string]));
    await index.flush();
    await index.set('late', 'in the log only');

    const plain = await runSilt(['backup', dir, join(work, 'copy')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout,
      /^backed up .*idx to .*copy: generation \d+ \(1 segment, hard-linked\) and 1 log file up to sequence 1001, /,
    );
    const json = await runSilt(['backup', dir, join(work, 'copy-2'), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as BackupReport;
    assert.equal(report.sequence, 1001);
    assert.equal(report.segments, 1);

    mkdirSync(join(work, 'used'));
    writeFileSync(join(work, 'used', 'keep.txt'), 'mine');
    const refused = await runSilt(['backup', dir, join(work, 'used'), '--json']);
    assert.equal(refused.code, 1);
    assert.equal(JSON.parse(refused.stderr).error.code, 'SILT_BACKUP_DESTINATION');
    assert.deepEqual(listTree(join(work, 'used')), ['keep.txt']);
  } finally {
    await index.close();
  }
  const verified = await runSilt(['verify', join(work, 'copy')]);
  assert.equal(verified.code, 0, verified.stdout);
  const got = await runSilt(['get', join(work, 'copy-2'), 'late']);
  assert.equal(got.stdout, 'in the log only\n');
});
