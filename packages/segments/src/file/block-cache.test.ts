import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BlockCache } from './block-cache.js';

test('the least recently used block is evicted first', () => {
  const cache = new BlockCache(3 * 512, 8);
  for (const block of [1, 2, 3]) cache.claim(block, 500);
  assert.ok(cache.get(1) !== undefined);
  cache.claim(4, 500);
  assert.equal(cache.get(2), undefined, 'block 2 was the least recently used');
  for (const block of [1, 3, 4]) assert.ok(cache.get(block) !== undefined, `block ${block} stays`);
});

test('an evicted frame is reused for a block of similar size, so steady misses allocate nothing', () => {
  const cache = new BlockCache(2 * 4608, 8);
  const first = cache.claim(1, 4200)!;
  cache.claim(2, 4300);
  const third = cache.claim(3, 4250)!;
  assert.equal(third.frame, first.frame);
  assert.equal(third.bytes.length, 4250);
});

test('a block larger than the whole cache is not cached', () => {
  const cache = new BlockCache(4096, 8);
  assert.equal(cache.claim(1, 5000), undefined);
  assert.equal(new BlockCache(0, 8).claim(1, 1), undefined);
});

test('random use never holds more than the capacity, and what it holds is always the most recently used cacheable blocks', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 512, max: 8192 }),
      fc.array(fc.record({ block: fc.nat({ max: 20 }), length: fc.integer({ min: 1, max: 3000 }) }), { maxLength: 200 }),
      (capacity, accesses) => {
        const cache = new BlockCache(capacity, 21);
        const recency: number[] = [];
        for (const { block, length } of accesses) {
          if (cache.get(block) === undefined && cache.claim(block, length) === undefined) {
            assert.ok(length > capacity - 512, 'only a block near or over the capacity is refused');
            continue;
          }
          if (recency.includes(block)) recency.splice(recency.indexOf(block), 1);
          recency.push(block);
          assert.ok(cache.usedBytes <= capacity);
          let suffix = 0;
          while (suffix < recency.length && cache.has(recency[recency.length - 1 - suffix]!)) suffix++;
          assert.equal(cache.size, suffix, 'the cached blocks are the most recently used ones');
        }
      },
    ),
  );
});
