import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '@silt/fs/internal';
import { HashTableBuilder } from './hash-table-builder.js';
import { KeyFilter, KEY_FILTER_MAX_KEYS } from './key-filter.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import { EMPTY_SLOT } from './hash-index.js';

/** The hash table a builder writes for `hashes`, as a reader sees its slots. */
function slotsOf(hashes: readonly number[]): Int32Array {
  const builder = new HashTableBuilder(hashes.length);
  hashes.forEach((hash, i) => builder.record(hash, i, 0));
  return littleEndianAsInt32Array(builder.encode());
}

function filterOf(hashes: readonly number[]): KeyFilter {
  return KeyFilter.ofSlots(slotsOf(hashes), hashes.length)!;
}

test('a filter passes every key its segment holds, runs that wrap past the last slot included', () => {
  // Hashes crowded onto the last home slots make runs that wrap to slot 0.
  const crowdedAtTheEnd = fc.array(fc.integer({ min: 0, max: 2 ** 16 - 1 }), { minLength: 1, maxLength: 40 }).map((highs) => {
    return highs.map((high) => ((high << 16) | 0xfffc | (high & 3)) >>> 0);
  });
  // 11 keys in 16 slots (two groups of 8), homes from slot 14 round to slot 7: when the run starting
  // at 14 reaches slot 8, it ends in the group it started in, having passed through group 0.
  const homes = [14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const high = fc.integer({ min: 0, max: 2 ** 28 - 1 });
  const roundTheTable = fc
    .tuple(high, fc.array(fc.tuple(high, fc.constantFrom(...homes)), { minLength: 10, maxLength: 10 }))
    .map(([first, rest]) => [((first << 4) | 14) >>> 0, ...rest.map(([bits, home]) => ((bits << 4) | home) >>> 0)]);
  const anyHashes = fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 3000 });
  fc.assert(
    fc.property(fc.oneof(crowdedAtTheEnd, roundTheTable, anyHashes), (hashes) => {
      const unique = [...new Set(hashes)];
      const filter = filterOf(unique);
      for (const hash of unique) assert.ok(filter.mayHold(hash), `hash ${hash} was turned away`);
    }),
    { numRuns: 1000 },
  );
});

test('a run that wraps through every group and ends in the group it started in still passes each of its keys', () => {
  // Found by the property above: 11 keys in 16 slots (2 groups of 8), one run from group 1 round to group 1.
  const hashes = [10243766, 259999510, 231330982, 3572822, 306225718, 163270, 175687846, 1490479414, 510196518, 952375958, 2154962824];
  const filter = filterOf(hashes);
  for (const hash of hashes) assert.ok(filter.mayHold(hash), `hash ${hash} was turned away`);
});

test('a filter turns away all but about 1 % of the keys its segment does not hold', () => {
  const random = new SeededRandom(16);
  const draw = (): number => Math.floor(random.next() * 2 ** 32);
  const held = new Set<number>();
  while (held.size < 20_000) held.add(draw());
  const filter = filterOf([...held]);
  let asked = 0;
  let passed = 0;
  while (asked < 200_000) {
    const hash = draw();
    if (held.has(hash)) continue;
    asked++;
    if (filter.mayHold(hash)) passed++;
  }
  assert.ok(passed / asked < 0.02, `${((100 * passed) / asked).toFixed(2)} % of absent keys passed`);
});

test('a segment of more keys than KEY_FILTER_MAX_KEYS gets no filter, and an empty one turns every key away', () => {
  const empty = KeyFilter.ofSlots(slotsOf([]), 0)!;
  assert.equal(empty.mayHold(12345), false);
  const large = new Int32Array(4 * (KEY_FILTER_MAX_KEYS + 1)).fill(EMPTY_SLOT);
  assert.equal(KeyFilter.ofSlots(large, KEY_FILTER_MAX_KEYS + 1), undefined);
});
