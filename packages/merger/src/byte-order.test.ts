import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareBytes } from '@silt/segments/internal';
import { stableByteOrder, type KeySlices } from './byte-order.js';

/** The keys laid out in one buffer with gaps, as log records lay them. */
function slicesOf(keys: readonly Uint8Array[]): KeySlices {
  const total = keys.reduce((sum, key) => sum + key.length + 3, 0);
  const buffer = new Uint8Array(total).fill(0xee);
  const starts: number[] = [];
  let at = 1;
  for (const key of keys) {
    buffer.set(key, at);
    starts.push(at);
    at += key.length + 3;
  }
  return { count: keys.length, buffers: keys.map(() => buffer), starts, lengths: keys.map((key) => key.length) };
}

/** The permutation, checked against the equal-neighbour flags the sort reports. */
function orderOf(keys: readonly Uint8Array[]): number[] {
  const { order, equalsNext } = stableByteOrder(slicesOf(keys));
  for (let i = 0; i + 1 < order.length; i++) {
    const a = keys[order[i]!]!;
    const b = keys[order[i + 1]!]!;
    assert.equal(
      equalsNext[i] === 1,
      Buffer.compare(a, b) === 0,
      `equalsNext[${i}] for ${Buffer.from(a).toString('hex')} and ${Buffer.from(b).toString('hex')}`,
    );
  }
  assert.equal(equalsNext[order.length - 1] ?? 0, 0);
  return [...order];
}

function expectedOrder(keys: readonly Uint8Array[]): number[] {
  return keys
    .map((key, index) => ({ key, index }))
    .sort((a, b) => compareBytes(a.key, 0, a.key.length, b.key, 0, b.key.length) || a.index - b.index)
    .map(({ index }) => index);
}

// Few distinct bytes and short lengths: many shared prefixes, keys ending inside a 4-byte digit, zero bytes.
const narrowKey = fc.uint8Array({ minLength: 0, maxLength: 11 }).map((bytes) => bytes.map((byte) => byte % 3));

test('orders keys by their bytes, keeps equal keys in input order and marks them equal', () => {
  fc.assert(
    fc.property(fc.array(narrowKey, { maxLength: 300 }), (keys) => {
      assert.deepEqual(orderOf(keys), expectedOrder(keys));
    }),
    { numRuns: 300 },
  );
});

test('orders random keys of any bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 500 }), (keys) => {
      assert.deepEqual(orderOf(keys), expectedOrder(keys));
    }),
    { numRuns: 100 },
  );
});

test('a key that is a zero-padded prefix of another sorts before it', () => {
  const keys = [[1, 0, 0, 0, 0], [1], [1, 0], [1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0]].map((bytes) => Uint8Array.from(bytes));
  assert.deepEqual(orderOf(keys), [1, 2, 5, 3, 0, 4]);
});

test('sorts a large run of keys sharing a long prefix', () => {
  const keys = Array.from({ length: 5_000 }, (_, i) =>
    new TextEncoder().encode(`user:0000:${String((i * 7919) % 5_000).padStart(6, '0')}`),
  );
  assert.deepEqual(orderOf(keys), expectedOrder(keys));
});
