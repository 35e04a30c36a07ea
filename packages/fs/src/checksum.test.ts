import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from './checksum.js';
import { nativeCrc32 } from './file-mapping.js';

test('checksums are node:zlib CRC-32 values, computed by the addon where it folds', () => {
  if (process.arch === 'x64') {
    assert.ok(nativeCrc32() !== undefined, 'the workspace builds @silt/mmap, and this CPU folds');
    // node:zlib's crc32 takes a string; the addon's takes only a Uint8Array: which one answers tells which is used.
    assert.throws(() => crc32('text' as unknown as Uint8Array), TypeError, 'crc32 is the addon');
  }
  const bytes = randomBytes(9000);
  for (const length of [0, 1, 15, 16, 63, 64, 65, 127, 128, 4096, 8999]) {
    const view = bytes.subarray(1, 1 + length);
    assert.equal(crc32(view), zlibCrc32(view), `${length} bytes`);
  }
});
