import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultInjectingFileSystem } from './fault-injecting-file-system.js';
import { nodeFileSystem } from './node-file-system.js';
import { errnoOf } from './errors.js';
import { tempDir } from '@silt/test-support';

const data = new Uint8Array(100).fill(1);

test('the nth call of an operation fails with the chosen errno, and only that one', () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'write', nth: 2, code: 'EIO' }]);
  const handle = fs.open(join(tempDir('nth'), 'a'), 'createNew');
  handle.write(data, 0);
  assert.throws(
    () => handle.write(data, 100),
    (error) => errnoOf(error) === 'EIO',
  );
  handle.write(data, 100);
  assert.equal(fs.injected, 1);
  assert.equal(fs.callCount('write'), 3);
  handle.close();
});

test('a sticky fault keeps failing, as a dead disk would', async () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'datasync', nth: 1, code: 'EIO', sticky: true }]);
  const handle = fs.open(join(tempDir('sticky'), 'a'), 'createNew');
  for (let i = 0; i < 3; i++) await assert.rejects(handle.datasync(), (error) => errnoOf(error) === 'EIO');
  handle.close();
});

test('a partial write leaves half the bytes, as a full disk does', () => {
  const dir = tempDir('partial');
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'write', nth: 1, code: 'ENOSPC', partial: true }]);
  const handle = fs.open(join(dir, 'a'), 'createNew');
  assert.throws(
    () => handle.write(data, 0),
    (error) => errnoOf(error) === 'ENOSPC',
  );
  handle.close();
  assert.equal(readFileSync(join(dir, 'a')).length, 50);
});

test('a fault can target paths by name', async () => {
  const dir = tempDir('path');
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  fs.addFault({ operation: 'syncDirectory', nth: 1, code: 'EIO', pathIncludes: 'wal' });
  await fs.syncDirectory(dir);
  fs.mkdir(join(dir, 'wal'));
  await assert.rejects(fs.syncDirectory(join(dir, 'wal')), (error) => errnoOf(error) === 'EIO');
  assert.throws(() => fs.addFault({ operation: 'open', nth: 0, code: 'EIO' }), RangeError);
});

test('an observer sees every call, with the open mode, before any fault', () => {
  const seen: string[] = [];
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'write', nth: 1, code: 'EIO' }], (operation, _path, mode) =>
    seen.push(mode === undefined ? operation : `${operation}:${mode}`),
  );
  const handle = fs.open(join(tempDir('observer'), 'a'), 'createNew');
  assert.throws(
    () => handle.write(data, 0),
    (error) => errnoOf(error) === 'EIO',
  );
  handle.close();
  assert.deepEqual(seen, ['open:createNew', 'write']);
});

test('a mapping fails as a read of the file does', () => {
  const dir = tempDir('map-fault');
  nodeFileSystem.open(join(dir, 'a'), 'createNew').close();
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'read', nth: 1, code: 'EIO' }]);
  assert.throws(
    () => fs.mapFile(join(dir, 'a')),
    (error) => errnoOf(error) === 'EIO',
  );
  assert.equal(fs.mapFile(join(dir, 'a'))?.length, 0);
});
