import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@silt/test-support';
import { SiltLevel } from './silt-level.js';

type LevelError = Error & { code?: string; cause?: Error & { code?: string } };

test('a second writer on the same index is refused with LEVEL_LOCKED, silt LockError as its cause', async () => {
  const dir = join(tempDir('level-lock'), 'idx');
  const first = new SiltLevel(dir);
  await first.open();
  const second = new SiltLevel(dir);
  try {
    await assert.rejects(second.open(), (error: LevelError) => {
      assert.equal(error.code, 'LEVEL_DATABASE_NOT_OPEN');
      assert.equal(error.cause?.code, 'LEVEL_LOCKED');
      assert.equal((error.cause?.cause as LevelError | undefined)?.code, 'SILT_LOCKED');
      return true;
    });
  } finally {
    await first.close();
  }
});

test("silt options are checked when the database is made; silt's keyEncoding is the adapter's own", () => {
  const dir = join(tempDir('level-options'), 'idx');
  assert.throws(() => new SiltLevel(dir, { silt: { keyEncoding: 'utf8' } as never }), { code: 'SILT_VALIDATION', message: /keyEncoding/ });
  assert.throws(() => new SiltLevel(dir, { silt: { durabilty: 'fsync' } as never }), { code: 'SILT_VALIDATION', message: /durabilty/ });
  assert.throws(() => new SiltLevel(dir, { readOnly: 'yes' as never }), { code: 'SILT_VALIDATION', message: /readOnly/ });
});

test('supports states what the adapter does: getSync, has, seek, permanence; no snapshots', async () => {
  const db = new SiltLevel(join(tempDir('level-supports'), 'idx'));
  await db.open();
  const supports = db.supports as typeof db.supports & { getSync?: boolean };
  assert.equal(supports.getSync, true);
  assert.equal(supports.has, true);
  assert.equal(supports.seek, true);
  assert.equal(supports.permanence, true);
  assert.equal(supports.implicitSnapshots, false);
  assert.equal(supports.explicitSnapshots, false);
  assert.equal(db.getSync('missing'), undefined, 'a synchronous get once open');
  await db.close();
});
