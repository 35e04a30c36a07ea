import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '@silt/fs';
import { IndexDamagedError } from '@silt/segments';
import { ReadOnlyIndex } from './read-only-index.js';
import { FixtureWriter } from './test-support/index-fixture.js';

/**
 * Damage a reader finds at open is said as the writer says it: an
 * IndexDamagedError (a CorruptionError) naming what is wrong and pointing
 * to `silt repair`, never an I/O error about a file or "no index here".
 */

test("a live segment's missing file is an IndexDamagedError naming it, not an I/O error", async () => {
  const writer = FixtureWriter.create('reader-missing-segment');
  await writer.flush([['a', '1']]);
  const id = await writer.flush([['b', '2']]);
  writer.close();
  rmSync(writer.segmentPath(id));
  await assert.rejects(ReadOnlyIndex.open(writer.directory, { watch: false }), (error: unknown) => {
    assert.ok(error instanceof IndexDamagedError, String(error));
    assert.match(error.message, new RegExp(`${id}\\.seg is live in generation 2 but the file is missing`));
    assert.match(error.message, /silt repair/);
    return true;
  });
});

test('a manifest emptied beside segment files is an IndexDamagedError (the manifest was lost), not a missing index', async () => {
  const writer = FixtureWriter.create('reader-empty-manifest');
  await writer.flush([['a', '1']]);
  writer.close();
  truncateSync(join(writer.directory, MANIFEST_FILE), 0);
  rmSync(join(writer.directory, `${MANIFEST_FILE}-wal`), { force: true });
  await assert.rejects(ReadOnlyIndex.open(writer.directory, { watch: false }), (error: unknown) => {
    assert.ok(error instanceof IndexDamagedError, String(error));
    assert.match(error.message, /manifest\.sqlite is missing or empty, but segments\/ holds 1 segment file/);
    return true;
  });
});

test('a damaged segment is an IndexDamagedError that keeps the file and offset of the damage', async () => {
  const writer = FixtureWriter.create('reader-damaged-segment');
  const id = await writer.flush([
    ['a', '1'],
    ['b', '2'],
  ]);
  writer.close();
  writeFileSync(writer.segmentPath(id), Buffer.alloc(300, 1));
  await assert.rejects(ReadOnlyIndex.open(writer.directory, { watch: false }), (error: unknown) => {
    assert.ok(error instanceof IndexDamagedError, String(error));
    assert.ok(error.file.endsWith(`${id}.seg`), error.file);
    assert.match(error.message, /silt repair/);
    return true;
  });
});
