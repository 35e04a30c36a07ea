import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mapFileReadOnly, mmapSupport } from './index.js';

function withDirectory(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'silt-mmap-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the addon builds and loads in this workspace', () => {
  assert.deepEqual(mmapSupport(), { available: true });
});

test('a mapped file reads back the bytes it holds', () => {
  withDirectory((dir) => {
    const path = join(dir, 'data');
    const bytes = Buffer.from(Array.from({ length: 3 * 4096 + 17 }, (_, i) => (i * 31) & 0xff));
    writeFileSync(path, bytes);
    const mapped = mapFileReadOnly(path);
    assert.equal(mapped.length, bytes.length);
    assert.ok(mapped.equals(bytes));
  });
});

test('a mapping outlives the removal of its file', () => {
  withDirectory((dir) => {
    const path = join(dir, 'data');
    writeFileSync(path, 'still here');
    const mapped = mapFileReadOnly(path);
    unlinkSync(path);
    assert.equal(mapped.toString(), 'still here');
  });
});

test('an empty file maps to no bytes', () => {
  withDirectory((dir) => {
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    assert.equal(mapFileReadOnly(path).length, 0);
  });
});

test('a missing file fails with ENOENT', () => {
  withDirectory((dir) => {
    assert.throws(() => mapFileReadOnly(join(dir, 'missing')), { code: 'ENOENT' });
  });
});
