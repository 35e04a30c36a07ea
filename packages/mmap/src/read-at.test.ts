import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { positionedRead, type PositionedRead } from './index.js';

function withOpenFile(bytes: Uint8Array, body: (fd: number, read: PositionedRead) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'silt-read-at-'));
  const path = join(dir, 'data');
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  try {
    const read = positionedRead();
    assert.ok(read !== undefined, 'the addon builds and loads in this workspace');
    body(fd, read);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

const BYTES = Buffer.from(Array.from({ length: 3 * 4096 + 17 }, (_, i) => (i * 31) & 0xff));

test('a positioned read returns the bytes at that position', () => {
  withOpenFile(BYTES, (fd, read) => {
    const target = new Uint8Array(512);
    assert.equal(read(fd, target, 4090), 512);
    assert.deepEqual(Buffer.from(target), BYTES.subarray(4090, 4090 + 512));
  });
});

test('a positioned read reads into a view at its own offset, and nothing around it', () => {
  withOpenFile(BYTES, (fd, read) => {
    const whole = Buffer.alloc(64, 0xee);
    assert.equal(read(fd, whole.subarray(16, 32), 100), 16);
    assert.deepEqual(whole.subarray(16, 32), BYTES.subarray(100, 116));
    assert.ok(whole.subarray(0, 16).every((byte) => byte === 0xee) && whole.subarray(32).every((byte) => byte === 0xee));
  });
});

test('a positioned read stops at the end of the file and reads nothing past it', () => {
  withOpenFile(BYTES, (fd, read) => {
    const target = new Uint8Array(100);
    assert.equal(read(fd, target, BYTES.length - 40), 40);
    assert.equal(read(fd, target, BYTES.length + 5), 0);
  });
});

test('a positioned read of a closed descriptor throws EBADF, as node:fs does', () => {
  withOpenFile(BYTES, (fd, read) => {
    const spare = openSync(join(tmpdir()), 'r');
    closeSync(spare);
    assert.throws(
      () => read(spare, new Uint8Array(8), 0),
      (error: NodeJS.ErrnoException) => error.code === 'EBADF',
    );
    assert.equal(read(fd, new Uint8Array(8), 0), 8);
  });
});

test('a positioned read refuses arguments that are not a descriptor, a Uint8Array and a position >= 0', () => {
  withOpenFile(BYTES, (fd, read) => {
    assert.throws(() => read(fd, new Uint8Array(8), -1), TypeError);
    assert.throws(() => read(fd, new Uint16Array(8) as unknown as Uint8Array, 0), TypeError);
    assert.throws(() => read(fd, 'bytes' as unknown as Uint8Array, 0), TypeError);
  });
});
