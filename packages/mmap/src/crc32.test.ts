import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { fastCrc32, type Crc32 } from './index.js';

function nativeCrc32(): Crc32 {
  const crc32 = fastCrc32();
  assert.ok(crc32 !== undefined || process.arch !== 'x64', 'the addon builds here, and every x86-64 CPU this runs on folds');
  return crc32 ?? zlibCrc32;
}

test('the CRC-32 of any length at any offset equals node:zlib', () => {
  const crc32 = nativeCrc32();
  const bytes = randomBytes(70_000);
  // Every length around the 16-byte and 64-byte steps the folding takes, then longer ones.
  const lengths = [...Array.from({ length: 300 }, (_, i) => i), 4095, 4096, 4097, 65_536, 69_000];
  for (const length of lengths) {
    for (const offset of [0, 1, 7, 13]) {
      const view = bytes.subarray(offset, offset + length);
      assert.equal(crc32(view), zlibCrc32(view), `${length} bytes at offset ${offset}`);
    }
  }
});

test('the CRC-32 of known inputs is the standard one', () => {
  const crc32 = nativeCrc32();
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the check value of CRC-32/ISO-HDLC');
  assert.equal(crc32(new Uint8Array(4096).fill(0xff)), zlibCrc32(new Uint8Array(4096).fill(0xff)));
});

test('a CRC-32 of something that is not a Uint8Array is a TypeError', { skip: process.arch !== 'x64' }, () => {
  const call = nativeCrc32() as (bytes: unknown) => number;
  assert.throws(() => call('text'), TypeError);
  assert.throws(() => call(new Uint16Array(8)), TypeError);
  assert.throws(() => call(undefined), TypeError);
});
