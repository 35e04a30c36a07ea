import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@silt/test-support';
import { SiltLevel } from './silt-level.js';

const tooLarge = 'x'.repeat(2048);

async function openLevel(label: string): Promise<{ db: SiltLevel; dir: string }> {
  const dir = join(tempDir(label), 'idx');
  const db = new SiltLevel(dir, { silt: { maxValueBytes: 1024 } });
  await db.open();
  return { db, dir };
}

test('a batch of puts with one invalid value writes nothing', async () => {
  const { db } = await openLevel('level-batch-puts');
  try {
    await assert.rejects(
      db.batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: tooLarge },
      ]),
      { code: 'SILT_VALIDATION' },
    );
    assert.deepEqual(await db.keys().all(), []);
  } finally {
    await db.close();
  }
});

test('a batch of puts and deletes with one invalid value writes nothing, not even its deletes', async () => {
  const { db } = await openLevel('level-batch-mixed-invalid');
  try {
    await db.put('kept', 'yes');
    const batch = db.batch().del('kept').put('a', '1').put('b', tooLarge);
    await assert.rejects(batch.write(), { code: 'SILT_VALIDATION' });
    assert.deepEqual(await db.iterator().all(), [['kept', 'yes']]);
  } finally {
    await db.close();
  }
});

test('a batch of puts and deletes applies in order, and holds after a reopen', async () => {
  const { db } = await openLevel('level-batch-mixed');
  try {
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
      { type: 'del', key: 'a' },
      { type: 'put', key: 'c', value: '3' },
      { type: 'del', key: 'c' },
      { type: 'put', key: 'c', value: '4' },
    ]);
    const expected = [
      ['b', '2'],
      ['c', '4'],
    ];
    assert.deepEqual(await db.iterator().all(), expected);
    await db.close();
    await db.open();
    assert.deepEqual(await db.iterator().all(), expected);
  } finally {
    await db.close();
  }
});

test('clear deletes a range larger than one run of deletes, forward and in reverse with a limit', async () => {
  const { db } = await openLevel('level-clear');
  try {
    const keys = Array.from({ length: 25_000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    await db.batch(keys.map((key) => ({ type: 'put' as const, key, value: '' })));
    await db.clear({ reverse: true, lt: 'k24990', limit: 20_000 });
    assert.deepEqual(await db.keys().all(), [...keys.slice(0, 4990), ...keys.slice(24_990)]);
    await db.clear({ gte: 'k00010', lt: 'k24995' });
    assert.deepEqual(await db.keys().all(), [...keys.slice(0, 10), ...keys.slice(24_995)]);
  } finally {
    await db.close();
  }
});
