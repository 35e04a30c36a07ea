import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Index } from 'silt';
import { tempDir } from '@silt/test-support';
import { fromStoredKey, toStoredKey } from './stored-keys.js';
import { SiltLevel } from './silt-level.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const asBytes = (key: string | Uint8Array): Uint8Array => (typeof key === 'string' ? new Uint8Array(Buffer.from(key, 'utf8')) : key);

test('stored keys keep the byte order of their originals, the empty key and NUL-led keys first', () => {
  const originals = [bytes(), bytes(0), bytes(0, 0), bytes(0, 1), bytes(1), bytes(0x61), bytes(0x61, 0), bytes(0xff), bytes(0xff, 0xff)];
  const stored = originals.map((key) => asBytes(toStoredKey(key)));
  for (let i = 1; i < stored.length; i++) {
    assert.ok(Buffer.compare(stored[i - 1]!, stored[i]!) < 0, `stored key #${i - 1} sorts before #${i}`);
  }
  assert.deepEqual(
    stored.map((key) => fromStoredKey(key)),
    originals,
  );
});

test('a string key is stored as the same bytes as its UTF-8 form', () => {
  for (const key of ['', '\u0000', '\u0000x', 'a', 'héllo', '😀']) {
    assert.deepEqual(asBytes(toStoredKey(key)), asBytes(toStoredKey(asBytes(key))), JSON.stringify(key));
  }
});

test('an index written through SiltLevel reads the same through silt itself, but for the empty key and NUL-led keys', async () => {
  const dir = join(tempDir('level-interop'), 'idx');
  const db = new SiltLevel(dir);
  await db.batch([
    { type: 'put', key: 'user:1', value: 'ada' },
    { type: 'put', key: '', value: 'empty' },
    { type: 'put', key: '\u0000nul', value: 'nul-led' },
  ]);
  await db.close();
  const index = await Index.open(dir);
  try {
    assert.equal(index.get('user:1'), 'ada');
    assert.equal(index.get('\u0000'), 'empty');
    assert.equal(index.get('\u0000\u0000nul'), 'nul-led');
    assert.deepEqual(
      [...index.range()].map(([key]) => key),
      ['\u0000', '\u0000\u0000nul', 'user:1'],
    );
  } finally {
    await index.close();
  }
});
