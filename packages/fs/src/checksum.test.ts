import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from './checksum.js';
import { nativeCrc32 } from './file-mapping.js';

test('checksums are node:zlib CRC-32 values, computed by the addon where it folds', () => {
  if (process.arch === 'x64') assert.ok(nativeCrc32() !== undefined, 'the workspace builds @silt/mmap, and this CPU folds');
  const bytes = randomBytes(9000);
  for (const length of [0, 1, 15, 16, 63, 64, 65, 127, 128, 4096, 8999]) {
    const view = bytes.subarray(1, 1 + length);
    assert.equal(crc32(view), zlibCrc32(view), `${length} bytes`);
  }
});
