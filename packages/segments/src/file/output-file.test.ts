import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FaultInjectingFileSystem, nodeFileSystem } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { OutputFile } from './output-file.js';

const dir = tempDir('output-file');
const CHUNK = new Uint8Array(600 * 1024).fill(1); // above half the buffer: written straight through

test('an output file starts an fdatasync after every syncEveryBytes written, without waiting, and settle waits for them', async () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  const path = join(dir, 'syncs.bin');
  const handle = fs.open(path, 'createNew');
  const output = new OutputFile(handle, 1024 * 1024);
  for (let i = 0; i < 7; i++) output.append(CHUNK);
  output.flush();
  // Seven writes of 600 KiB against a 1 MiB step: the 2nd, 4th and 6th each pass the step since the last sync began.
  assert.equal(fs.callCount('datasync'), 3);
  await output.settle();
  handle.close();
  assert.equal(readFileSync(path).length, 7 * CHUNK.length);
});

test('a small output file starts no background sync', async () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  const handle = fs.open(join(dir, 'small.bin'), 'createNew');
  const output = new OutputFile(handle);
  output.append(CHUNK);
  output.flush();
  await output.settle();
  handle.close();
  assert.equal(fs.callCount('datasync'), 0);
});

test('a background fdatasync that fails is reported by settle, not as an unhandled rejection', async () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'datasync', nth: 1, code: 'EIO' }]);
  const handle = fs.open(join(dir, 'failing.bin'), 'createNew');
  const output = new OutputFile(handle, 1024 * 1024);
  for (let i = 0; i < 4; i++) output.append(CHUNK);
  await assert.rejects(output.settle(), { code: 'EIO' });
  // Still reported on a second look: the failure is not forgotten once seen.
  await assert.rejects(output.settle(), { code: 'EIO' });
  handle.close();
});
