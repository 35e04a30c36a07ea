import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_KEY_BYTES } from './format.js';
import { KEY_SCRATCH, encodeKeyToScratch, prefixSuccessor, scratchKeyHash } from './key-bytes.js';
import { hashKeyBytes } from './key-hash.js';

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Lone and paired surrogates in every order.
  fc.array(fc.constantFrom('a', '\ud800', '\udc00', '\ud83d\ude00', 'é', '€', '\u0000', '\uffff'), { maxLength: 12 }).map((units) => units.join('')),
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
