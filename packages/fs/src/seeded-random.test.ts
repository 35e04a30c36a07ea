import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from './seeded-random.js';

test('the same seed gives the same sequence, so a crash can be replayed', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const seqA = Array.from({ length: 20 }, () => a.intBetween(0, 1000));
  const seqB = Array.from({ length: 20 }, () => b.intBetween(0, 1000));
  const seqC = Array.from({ length: 20 }, () => c.intBetween(0, 1000));
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
});

test('intBetween stays inside its bounds and reaches both ends', () => {
  const random = new SeededRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = random.intBetween(3, 9);
    assert.ok(n >= 3 && n <= 9);
    seen.add(n);
  }
  assert.equal(seen.size, 7);
});
