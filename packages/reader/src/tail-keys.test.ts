import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TailKeys } from './tail-keys.js';

const encoder = new TextEncoder();

test('every key added is found again by its bytes and by its string, numbered in the order added, past many index growths', () => {
  const keys = new TailKeys();
  const texts = Array.from({ length: 20_000 }, (_, i) => `key-${(i * 7919) % 20_000}-é${i % 3 === 0 ? '😀' : ''}`);
  texts.forEach((text, i) => assert.equal(keys.numberOf(encoder.encode(text)), i));
  assert.equal(keys.size, texts.length);
  texts.forEach((text, i) => {
    assert.equal(keys.findString(text), i);
    assert.equal(keys.findBytes(encoder.encode(text)), i);
    assert.equal(keys.numberOf(encoder.encode(text)), i, 'a key added again keeps its number');
  });
  assert.equal(keys.findString('key-absent'), -1);
  assert.equal(keys.size, texts.length);
});

test('a key table agrees with a Map of the same keys: numbers, lookups of absent keys, byte order and copies', () => {
  const bytesKey = fc.uint8Array({ minLength: 1, maxLength: 40 });
  fc.assert(
    fc.property(fc.array(bytesKey, { maxLength: 300 }), fc.array(bytesKey, { maxLength: 30 }), (added, probes) => {
      const keys = new TailKeys();
      const model = new Map<string, number>();
      for (const key of added) {
        const id = Buffer.from(key).toString('latin1');
        const expected = model.get(id) ?? model.size;
        model.set(id, expected);
        assert.equal(keys.numberOf(key), expected);
      }
      for (const key of [...added, ...probes]) assert.equal(keys.findBytes(key), model.get(Buffer.from(key).toString('latin1')) ?? -1);
      const ids = [...model.keys()];
      for (let a = 0; a < ids.length; a++) {
        const copy = keys.copyOf(a);
        assert.equal(copy.toString('latin1'), ids[a]);
        const b = (a * 31 + 7) % ids.length;
        assert.equal(Math.sign(keys.compare(a, b)), Math.sign(Buffer.compare(copy, keys.copyOf(b))));
        assert.equal(Math.sign(keys.compareTo(a, keys.copyOf(b))), Math.sign(keys.compare(a, b)));
      }
    }),
  );
});

test('a string key with a lone surrogate is the key Buffer.from makes of it, U+FFFD in its place', () => {
  const keys = new TailKeys();
  const number = keys.numberOf(Buffer.from('k\uD800'));
  assert.equal(keys.findString('k\uD800'), number);
  assert.equal(keys.findString('k\uFFFD'), number);
});
