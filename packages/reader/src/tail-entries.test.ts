import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ASCII_TEXT, BYTES, DELETED, TailEntries, UTF8_TEXT } from './tail-entries.js';

const encoder = new TextEncoder();
const NO_VALUE = new Uint8Array(0);

function writeText(entries: TailEntries, key: string, value: string): number {
  const bytes = encoder.encode(value);
  return entries.write(encoder.encode(key), [...bytes].every((byte) => byte < 0x80) ? ASCII_TEXT : UTF8_TEXT, bytes, 0, bytes.length);
}

test('every key written is found again by its bytes and by its string, numbered in the order first written, past many index growths', () => {
  const entries = new TailEntries();
  const texts = Array.from({ length: 20_000 }, (_, i) => `key-${(i * 7919) % 20_000}-é${i % 3 === 0 ? '😀' : ''}`);
  texts.forEach((text, i) => assert.equal(writeText(entries, text, `v${i}`), i));
  assert.equal(entries.size, texts.length);
  texts.forEach((text, i) => {
    assert.equal(entries.findString(text), i);
    assert.equal(entries.findBytes(encoder.encode(text)), i);
    assert.equal(writeText(entries, text, `again ${i}`), i, 'a key written again keeps its number');
  });
  texts.forEach((text, i) => assert.deepEqual(entries.lookup(text), { kind: 'put', value: `again ${i}` }));
  assert.equal(entries.findString('key-absent'), -1);
  assert.equal(entries.lookup('key-absent'), undefined);
  assert.equal(entries.size, texts.length);
});

test('values come back as written: ASCII and other text as strings, bytes as a copy the caller owns, a delete as a tombstone', () => {
  const entries = new TailEntries();
  writeText(entries, 'ascii', 'plain');
  writeText(entries, 'utf8', 'é😀');
  writeText(entries, 'empty', '');
  const number = entries.write(encoder.encode('bytes'), BYTES, Uint8Array.of(9, 1, 2, 3), 1, 4);
  entries.write(encoder.encode('gone'), DELETED, NO_VALUE, 0, 0);
  assert.deepEqual(entries.lookup('ascii'), { kind: 'put', value: 'plain' });
  assert.deepEqual(entries.lookup('utf8'), { kind: 'put', value: 'é😀' });
  assert.deepEqual(entries.lookup('empty'), { kind: 'put', value: '' });
  assert.deepEqual(entries.lookup(encoder.encode('gone')), { kind: 'tombstone' });
  const found = entries.lookupNumber(number);
  assert.deepEqual(found, { kind: 'put', value: Uint8Array.of(1, 2, 3) });
  if (found.kind === 'put' && found.value instanceof Uint8Array) found.value[0] = 99;
  assert.deepEqual(entries.lookup('bytes'), { kind: 'put', value: Uint8Array.of(1, 2, 3) }, 'changing a value read changes nothing held');
  assert.equal(entries.keyValueBytes, 5 + 5 + 4 + 6 + 5 + 0 + 5 + 3 + 4);
});

test('rewriting keys over and over keeps the arena within about twice what it holds, every value still right', () => {
  const entries = new TailEntries();
  const keys = 100;
  for (let round = 0; round < 3_000; round++) {
    for (let k = 0; k < keys; k++) writeText(entries, `key-${k}`, `${round}-${'x'.repeat(k % 50)}`);
  }
  for (let k = 0; k < keys; k++) assert.deepEqual(entries.lookup(`key-${k}`), { kind: 'put', value: `2999-${'x'.repeat(k % 50)}` });
  assert.equal(entries.size, keys);
  // 300,000 writes of about 40 bytes each went through; the live entries are about 4 KiB.
  assert.ok(entries.allocatedBytes < 2 * entries.entryBytes + 4 * 1024 * 1024, `${entries.allocatedBytes} bytes allocated`);
});

test('a key table agrees with a Map of the same writes: numbers, newest values, absent keys, byte order, copies and copyFrom', () => {
  const bytesKey = fc.uint8Array({ minLength: 1, maxLength: 40 });
  const write = fc.tuple(bytesKey, fc.option(fc.uint8Array({ maxLength: 30 })));
  fc.assert(
    fc.property(fc.array(write, { maxLength: 300 }), fc.array(bytesKey, { maxLength: 30 }), (writes, probes) => {
      const entries = new TailEntries();
      const model = new Map<string, { number: number; value: Uint8Array | null }>();
      for (const [key, value] of writes) {
        const id = Buffer.from(key).toString('latin1');
        const number = model.get(id)?.number ?? model.size;
        model.set(id, { number, value });
        const written = value === null ? entries.write(key, DELETED, NO_VALUE, 0, 0) : entries.write(key, BYTES, value, 0, value.length);
        assert.equal(written, number);
      }
      for (const key of [...writes.map(([key]) => key), ...probes]) {
        const expected = model.get(Buffer.from(key).toString('latin1'));
        assert.equal(entries.findBytes(key), expected?.number ?? -1);
        const lookup =
          expected === undefined ? undefined : expected.value === null ? { kind: 'tombstone' } : { kind: 'put', value: expected.value };
        assert.deepEqual(entries.lookup(key), lookup);
      }
      const ids = [...model.keys()];
      const copy = new TailEntries();
      for (let a = 0; a < ids.length; a++) {
        const key = entries.copyOf(a);
        assert.equal(key.toString('latin1'), ids[a]);
        const b = (a * 31 + 7) % ids.length;
        assert.equal(Math.sign(entries.compare(a, b)), Math.sign(Buffer.compare(key, entries.copyOf(b))));
        assert.equal(Math.sign(entries.compareTo(a, entries.copyOf(b))), Math.sign(entries.compare(a, b)));
        assert.equal(copy.copyFrom(entries, a), a);
        assert.deepEqual(copy.lookupNumber(a), entries.lookupNumber(a));
      }
      assert.equal(copy.keyValueBytes, entries.keyValueBytes);
    }),
  );
});

test('a string key with a lone surrogate is the key Buffer.from makes of it, U+FFFD in its place', () => {
  const entries = new TailEntries();
  const number = entries.write(Buffer.from('k\uD800'), DELETED, NO_VALUE, 0, 0);
  assert.equal(entries.findString('k\uD800'), number);
  assert.equal(entries.findString('k\uFFFD'), number);
});
