import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoError, nodeFileSystem } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { copyPrefix } from './backup-files.js';

test('copyPrefix copies exactly the bytes asked for, and a source shorter than them is an IoError, never a short copy', async () => {
  const dir = tempDir('backup-files');
  const source = join(dir, 'source');
  writeFileSync(source, Buffer.from('0123456789'));
  const handle = nodeFileSystem.open(source, 'read');
  try {
    let copied = 0;
    await copyPrefix(nodeFileSystem, handle, join(dir, 'prefix'), 6, (bytes) => (copied += bytes));
    assert.equal(readFileSync(join(dir, 'prefix'), 'latin1'), '012345');
    assert.equal(copied, 6);
    await assert.rejects(
      copyPrefix(nodeFileSystem, handle, join(dir, 'too-long'), 16, () => {}),
      (error: unknown) => error instanceof IoError && /ended at 10 of the 16 bytes/.test(error.message),
    );
    assert.ok(existsSync(join(dir, 'too-long')), 'the partial file stays under its temporary name for the caller to remove');
  } finally {
    handle.close();
  }
});
