import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@silt/test-support';
import { SiltLevel } from './silt-level.js';

test('readOnly opens a ReadOnlyIndex beside the writer: reads what the writer flushed, refuses every write with LEVEL_READONLY', async () => {
  const dir = join(tempDir('level-read-only'), 'idx');
  const writer = new SiltLevel(dir);
  await writer.put('a', '1');
  await writer.put('b', '2');
  // close() flushes into a segment; the writer opens again and holds the index while the reader reads.
  await writer.close();
  await writer.open();
  const reader = new SiltLevel<string, number>(dir, { readOnly: true, valueEncoding: 'json' });
  try {
    await reader.open();
    assert.equal(await reader.get('a'), 1);
    assert.deepEqual(await reader.iterator().all(), [
      ['a', 1],
      ['b', 2],
    ]);
    const refusals = [
      reader.put('c', 3),
      reader.del('a'),
      reader.batch([{ type: 'put', key: 'c', value: 3 }]),
      reader.batch().del('a').write(),
      reader.clear(),
    ];
    for (const refusal of refusals) await assert.rejects(refusal, { code: 'LEVEL_READONLY' });
    assert.deepEqual(await writer.keys().all(), ['a', 'b'], 'nothing was written');
  } finally {
    await reader.close();
    await writer.close();
  }
});

test('readOnly on a directory with no index refuses to open and creates nothing', async () => {
  const dir = join(tempDir('level-read-only-missing'), 'idx');
  const reader = new SiltLevel(dir, { readOnly: true });
  await assert.rejects(reader.open(), (error: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, 'LEVEL_DATABASE_NOT_OPEN');
    assert.equal(error.cause?.code, 'SILT_INDEX_MISSING');
    return true;
  });
  assert.equal(existsSync(dir), false);
});
