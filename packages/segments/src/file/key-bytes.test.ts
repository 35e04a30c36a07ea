import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_KEY_BYTES } from './format.js';
import { ValidationError } from '@silt/fs';
import {
  KEY_SCRATCH,
  checkKey,
  checkedKeyId,
  compareKeys,
  decodeKey,
  encodeKey,
  encodeKeyToScratch,
  keyBytesOfId,
  keyIdOfBytes,
  keyIdOfString,
  keyToBytes,
  ownedKey,
  prefixSuccessor,
  scratchKeyHash,
} from './key-bytes.js';
import { hashKeyBytes } from './key-hash.js';

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Lone and paired surrogates in every order.
  fc
    .array(fc.constantFrom('a', '\ud800', '\udc00', '\ud83d\ude00', 'é', '€', '\u0000', '\uffff'), { maxLength: 12 })
    .map((units) => units.join('')),
);

test('a string key is encoded exactly as Buffer.from does, and hashed as its bytes are', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const expected = Buffer.from(text, 'utf8');
      const length = encodeKeyToScratch(text);
      assert.deepStrictEqual(Buffer.from(KEY_SCRATCH.subarray(0, length)), expected);
      assert.equal(scratchKeyHash, hashKeyBytes(expected, 0, expected.length));
    }),
  );
});

test('keys encoded in any sequence, repeats included, each leave their own bytes and hash in the scratch', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('apple', 'apple', 'pear', 'é', 'a'.repeat(MAX_KEY_BYTES + 1)), { maxLength: 12 }), (keys) => {
      for (const key of keys) {
        const expected = Buffer.from(key, 'utf8');
        const length = encodeKeyToScratch(key);
        if (expected.length > MAX_KEY_BYTES) {
          assert.equal(length, -1);
          continue;
        }
        assert.deepStrictEqual(Buffer.from(KEY_SCRATCH.subarray(0, length)), expected);
        assert.equal(scratchKeyHash, hashKeyBytes(expected, 0, expected.length));
      }
    }),
  );
});

test('a string too long to be a stored key encodes as -1', () => {
  assert.equal(encodeKeyToScratch('a'.repeat(MAX_KEY_BYTES)), MAX_KEY_BYTES);
  assert.equal(encodeKeyToScratch('a'.repeat(MAX_KEY_BYTES + 1)), -1);
  assert.equal(encodeKeyToScratch('é'.repeat(MAX_KEY_BYTES / 2 + 1)), -1);
});

test('the prefix successor is the smallest key above every key with the prefix', () => {
  assert.deepStrictEqual(prefixSuccessor(Uint8Array.of(0x61, 0x62)), Uint8Array.of(0x61, 0x63));
  assert.deepStrictEqual(prefixSuccessor(Uint8Array.of(0x61, 0xff, 0xff)), Uint8Array.of(0x62));
  assert.equal(prefixSuccessor(Uint8Array.of(0xff, 0xff)), undefined);
  assert.equal(prefixSuccessor(new Uint8Array(0)), undefined);
  const prefix = Buffer.from('ab');
  prefixSuccessor(prefix);
  assert.equal(prefix.toString(), 'ab', 'the prefix itself is not changed');
});

const wellFormedText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 });
const keyBytes = fc.uint8Array({ minLength: 1, maxLength: 40 });

test('a key id stands for exactly its bytes, string and byte keys alike, and ids order as the bytes do', () => {
  fc.assert(
    fc.property(wellFormedText, keyBytes, keyBytes, (text, a, b) => {
      const utf8 = Buffer.from(text, 'utf8');
      assert.equal(keyIdOfString(text), keyIdOfBytes(utf8), 'a string key and its UTF-8 bytes are one key');
      assert.equal(checkedKeyId(text), keyIdOfBytes(utf8));
      assert.deepStrictEqual(new Uint8Array(keyBytesOfId(keyIdOfBytes(a))), a, 'the id round-trips to the bytes');
      const [idA, idB] = [keyIdOfBytes(a), keyIdOfBytes(b)];
      assert.equal(Math.sign(idA < idB ? -1 : idA > idB ? 1 : 0), Math.sign(compareKeys(a, b)));
    }),
  );
});

test('an index key is checked the same way by every path: point reads, encoding and the writer', () => {
  const refused = (call: () => unknown, message: RegExp): void =>
    assert.throws(call, (error: unknown) => error instanceof ValidationError && message.test(error.message));
  const longest = 'a'.repeat(MAX_KEY_BYTES);
  for (const check of [checkKey, encodeKey, (key: unknown) => checkedKeyId(ownedKey(key))]) {
    refused(() => check(''), /^a key must not be empty$/);
    refused(() => check(new Uint8Array(0)), /^a key must not be empty$/);
    refused(() => check(`${longest}a`), new RegExp(`^a key is ${MAX_KEY_BYTES + 1} bytes; the limit is ${MAX_KEY_BYTES} bytes$`));
    refused(() => check('k\uD800'), /^a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1$/);
    refused(() => check(7), /^a key must be a string or a Uint8Array, got number$/);
    check(longest);
    check('😀');
  }
});

test('the writer keeps its own copy of a byte key; reads take it as it is', () => {
  const key = Uint8Array.of(1, 2, 3);
  const owned = ownedKey(key);
  assert.notEqual(owned, key);
  assert.deepStrictEqual(owned, key);
  assert.equal(checkKey(key), key);
  assert.equal(encodeKey(key), key);
});

test('a key read back comes as the encoding asks, a binary key as a copy', () => {
  const stored = Buffer.from('clé', 'utf8');
  assert.equal(decodeKey(stored, 'utf8'), 'clé');
  const binary = decodeKey(stored, 'binary') as Uint8Array;
  assert.deepStrictEqual(binary, new Uint8Array(stored));
  binary[0] = 0;
  assert.equal(stored[0], 'c'.charCodeAt(0), 'the stored bytes are not the ones handed out');
});

test("a bound's string is encoded as Buffer.from does for a segment, and refused unless well-formed for an index", () => {
  assert.deepStrictEqual(keyToBytes('k\uD800', 'a bound'), Buffer.from('k\uFFFD', 'utf8'));
  assert.throws(
    () => keyToBytes('k\uD800', "range option 'gte'", 'well-formed'),
    /^ValidationError: range option 'gte' must be well-formed UTF-16/,
  );
  assert.equal(keyToBytes('', 'a prefix', 'well-formed').length, 0, 'a bound may be empty');
});
