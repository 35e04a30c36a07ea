import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HashTableBuilder } from './hash-table-builder.js';
import { KeyFilter } from './key-filter.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import { StackKeyFilter } from './stack-key-filter.js';

/** The key filter of a segment holding `hashes`, from the hash table a builder writes for them. */
function filterOf(hashes: readonly number[]): KeyFilter {
  const builder = new HashTableBuilder(hashes.length);
  hashes.forEach((hash, i) => builder.record(hash, i, 0));
  return KeyFilter.ofSlots(littleEndianAsInt32Array(builder.encode()), hashes.length)!;
}

/** Every position `nextHolder` stops at for `hash`, in order. */
function holders(stack: StackKeyFilter, hash: number): number[] {
  const positions: number[] = [];
  for (let i = stack.nextHolder(0, hash); i < stack.length; i = stack.nextHolder(i + 1, hash)) positions.push(i);
  return positions;
}

const hash = fc.integer({ min: 0, max: 2 ** 32 - 1 });
/** A stack of sources, newest first: a segment's distinct hashes (sizes differ, so shapes do), or null: no filter. */
const stackOf = fc.array(fc.option(fc.uniqueArray(hash, { minLength: 1, maxLength: 600 }), { freq: 4 }), { minLength: 2, maxLength: 12 });

test('a stack filter stops at exactly the sources whose own filter passes a key, and at every source without one', () => {
  fc.assert(
    fc.property(stackOf, fc.array(hash, { maxLength: 50 }), (segments, asked) => {
      const filters = segments.map((hashes) => (hashes === null ? undefined : filterOf(hashes)));
      const stack = StackKeyFilter.of(filters, 0)!;
      const every = [...segments.flatMap((hashes) => hashes ?? []), ...asked];
      for (const key of every) {
        const expected = filters.flatMap((filter, position) => (filter === undefined || filter.mayHold(key) ? [position] : []));
        assert.deepEqual(holders(stack, key), expected, `hash ${key}`);
      }
    }),
    { numRuns: 200 },
  );
});

test('no source that holds a key is skipped, whichever key was asked before', () => {
  fc.assert(
    fc.property(stackOf, fc.array(hash, { maxLength: 20 }), (segments, before) => {
      const stack = StackKeyFilter.of(
        segments.map((hashes) => (hashes === null ? undefined : filterOf(hashes))),
        0,
      )!;
      for (const key of before) holders(stack, key);
      segments.forEach((hashes, position) => {
        for (const key of hashes ?? []) assert.ok(holders(stack, key).includes(position), `hash ${key} was turned away at ${position}`);
      });
    }),
    { numRuns: 200 },
  );
});

test('a stack with fewer filtered sources than asked for gets no stack filter', () => {
  const one = filterOf([1, 2, 3]);
  assert.equal(StackKeyFilter.of([undefined, one]), undefined);
  assert.equal(StackKeyFilter.of([]), undefined);
  assert.ok(StackKeyFilter.of([one, undefined, filterOf([4, 5])]) !== undefined);
});
