import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { WriteAheadLog } from '@silt/wal';
import { listWalFiles } from './index-files.js';
import { checkWal } from './verify-checks.js';
import { workDirectory } from './test-support/silt-process.js';

/** An index's log of several files, as a writer leaves it: returns its directory (the index's). */
async function logOfSeveralFiles(label: string): Promise<string> {
  const dir = workDirectory(label);
  const wal = await WriteAheadLog.open(join(dir, 'wal'), { maxFileBytes: 1024 });
  try {
    for (let i = 0; i < 60; i++) await wal.append([{ kind: 'put', key: Buffer.from(`key${i}`), value: Buffer.alloc(40, i) }]);
  } finally {
    await wal.close();
  }
  return dir;
}

test('an emptied log file whose records the segments already cover is no gap; an emptied one they do not cover is', async () => {
  const dir = await logOfSeveralFiles('verify-emptied-covered');
  const files = listWalFiles(dir);
  assert.ok(files.length >= 3, `${files.length} log files`);
  const [oldest, second] = files as [(typeof files)[0], (typeof files)[0]];
  truncateSync(oldest.path, 0);

  const coveredPastIt = checkWal(listWalFiles(dir), second.firstSequence - 1);
  assert.deepEqual(coveredPastIt.filter((check) => check.status === 'damaged'), [], JSON.stringify(coveredPastIt));

  const notCovered = checkWal(listWalFiles(dir), 0);
  const damaged = notCovered.filter((check) => check.status === 'damaged');
  assert.equal(damaged.length, 1, JSON.stringify(notCovered));
  assert.match(damaged[0]!.detail ?? '', new RegExp(`records 1–${second.firstSequence - 1} are missing`));
});
