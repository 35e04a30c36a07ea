import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '@silt/fs/internal';
import { HashTableBuilder } from './hash-table-builder.js';
import { KeyFilter, KEY_FILTER_MAX_KEYS } from './key-filter.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import { EMPTY_SLOT } from './hash-index.js';

/** The hash table a builder writes for `hashes`, as a reader sees it: its slots and its mask. */
function tableOf(hashes: readonly number[]): { slots: Int32Array; mask: number } {
  const builder = new HashTableBuilder(hashes.length);
  hashes.forEach((hash, i) => builder.record(hash, i, 0));
  const slots = littleEndianAsInt32Array(builder.encode());
  return { slots, mask: (slots.length >>> 1) - 1 };
}

function filterOf(hashes: readonly number[]): { filter: KeyFilter; mask: number } {
  const { slots, mask } = tableOf(hashes);
  return { filter: KeyFilter.ofSlots(slots, hashes.length, EMPTY_SLOT)!, mask };
}

test('a filter passes every key its segment holds, runs that wrap past the last slot included', () => {
  // Hashes crowded onto the last home slots make runs that wrap to slot 0.
  const crowdedAtTheEnd = fc.array(fc.integer({ min: 0, max: 2 ** 16 - 1 }), { minLength: 1, maxLength: 40 }).map((highs) => {
    return highs.map((high) => ((high << 16) | 0xfffc | (high & 3)) >>> 0);
  });
  const anyHashes = fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 3000 });
  fc.assert(
    fc.property(fc.oneof(crowdedAtTheEnd, anyHashes), (hashes) => {
      const unique = [...new Set(hashes)];
      const { filter, mask } = filterOf(unique);
      for (const hash of unique) assert.ok(filter.mayHold(hash, mask), `hash ${hash} was turned away`);
    }),
    { numRuns: 200 },
  );
});

test('a filter turns away all but about 1 % of the keys its segment does not hold', () => {
  const random = new SeededRandom(16);
  const draw = (): number => Math.floor(random.next() * 2 ** 32);
  const held = new Set<number>();
  while (held.size < 20_000) held.add(draw());
  const { filter, mask } = filterOf([...held]);
  let asked = 0;
  let passed = 0;
  while (asked < 200_000) {
    const hash = draw();
    if (held.has(hash)) continue;
    asked++;
    if (filter.mayHold(hash, mask)) passed++;
  }
  assert.ok(passed / asked < 0.02, `${((100 * passed) / asked).toFixed(2)} % of absent keys passed`);
});

test('a segment of more keys than KEY_FILTER_MAX_KEYS gets no filter, and an empty one turns every key away', () => {
  const { slots } = tableOf([]);
  const empty = KeyFilter.ofSlots(slots, 0, EMPTY_SLOT)!;
  assert.equal(empty.mayHold(12345, (slots.length >>> 1) - 1), false);
  const large = new Int32Array(4 * (KEY_FILTER_MAX_KEYS + 1)).fill(EMPTY_SLOT);
  assert.equal(KeyFilter.ofSlots(large, KEY_FILTER_MAX_KEYS + 1, EMPTY_SLOT), undefined);
});
