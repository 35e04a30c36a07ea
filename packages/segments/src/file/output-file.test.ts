import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FaultInjectingFileSystem, nodeFileSystem, type FileHandle } from '@silt/fs';
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

/**
 * A real file's handle whose fdatasyncs wait until the test lets each end (as one queued behind
 * others on the thread pool), recording when syncs end and when it is closed.
 */
function heldSyncHandle(name: string): { handle: FileHandle; events: string[]; pending: Array<() => void> } {
  const real = nodeFileSystem.open(join(dir, name), 'createNew');
  const events: string[] = [];
  const pending: Array<() => void> = [];
  const handle: FileHandle = {
    path: real.path,
    size: () => real.size(),
    read: (target, position) => real.read(target, position),
    write: (data, position) => real.write(data, position),
    truncate: (length) => real.truncate(length),
    sync: () => real.sync(),
    datasync: () => new Promise<void>((resolve) => pending.push(resolve)).then(() => void events.push('synced')),
    datasyncNow: () => real.datasyncNow(),
    close: () => {
      events.push('closed');
      real.close();
    },
  };
  return { handle, events, pending };
}

test('a given-up output file closes its handle only once the background syncs it started have ended', async () => {
  const { handle, events, pending } = heldSyncHandle('given-up.bin');
  const output = new OutputFile(handle, 1024 * 1024);
  for (let i = 0; i < 2; i++) output.append(CHUNK);
  assert.equal(pending.length, 1, 'one background sync began');
  output.closeWhenSynced();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, [], 'not closed under the queued sync');
  pending[0]!();
  await output.settle();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ['synced', 'closed']);
});

test('a given-up output file with no background sync closes its handle at once', () => {
  const { handle, events } = heldSyncHandle('given-up-small.bin');
  const output = new OutputFile(handle);
  output.append(CHUNK);
  output.closeWhenSynced();
  assert.deepEqual(events, ['closed']);
});
