import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '@silt/fs';
import { INDEX_NEAR_LIMIT, nearOptions } from './near.js';
import { FULL_SCAN, prefixScanRange, toScanRange } from './range-options.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

test('range options resolve once into byte bounds, the prefix intersected with the other bounds', () => {
  assert.deepStrictEqual(toScanRange(undefined), FULL_SCAN);
  assert.deepStrictEqual(toScanRange({ gt: 'b', prefix: 'ab', reverse: true, limit: 3 }), {
    lower: { key: bytes('b'), inclusive: false },
    upper: { key: Uint8Array.of(0x61, 0x63), inclusive: false },
    reverse: true,
    limit: 3,
  });
  assert.deepStrictEqual(toScanRange({ prefix: 'ab' }), prefixScanRange(bytes('ab')));
  assert.deepStrictEqual(toScanRange({ gte: undefined, lte: 'z' }), {
    lower: undefined,
    upper: { key: bytes('z'), inclusive: true },
    reverse: false,
    limit: Infinity,
  });
});

test('bad range options are ValidationErrors naming the option, the same words for a segment and an index', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['gte', /^range options must be an object, got string$/],
    [{ sideways: true }, /^unknown range option 'sideways'; known: gte, gt, lte, lt, prefix, reverse, limit$/],
    [{ gte: 'a', gt: 'b' }, /^give at most one of the range options gte and gt$/],
    [{ gte: 1 }, /^range option 'gte' must be a string or a Uint8Array, got number$/],
    [{ prefix: {} }, /^range option 'prefix' must be a string or a Uint8Array, got an object \(Object\)$/],
    [{ limit: -1 }, /^option limit must be a non-negative whole number, got -1$/],
  ];
  for (const [options, message] of cases) {
    for (const rule of ['utf8', 'well-formed'] as const) {
      assert.throws(
        () => toScanRange(options, rule),
        (error: unknown) => error instanceof ValidationError && message.test(error.message),
        `${JSON.stringify(options)} ${rule}`,
      );
    }
  }
});

test("an index's range refuses a bound that is not well-formed UTF-16; a segment's reads it as its UTF-8", () => {
  assert.throws(
    () => toScanRange({ lt: 'k\uDC00' }, 'well-formed'),
    /range option 'lt' must be well-formed UTF-16: it has a lone surrogate \\uDC00 at index 1/,
  );
  assert.deepStrictEqual(toScanRange({ lt: 'k\uDC00' }).upper, { key: bytes('k\uFFFD'), inclusive: false });
});

test('near options: one definition, with a segment returning every match and an index a screenful by default', () => {
  assert.deepStrictEqual(nearOptions(undefined), { minPrefix: 0, limit: Infinity, greedy: false });
  assert.deepStrictEqual(nearOptions({ greedy: true }, INDEX_NEAR_LIMIT), { minPrefix: 0, limit: 10, greedy: true });
  assert.deepStrictEqual(nearOptions({ limit: 3 }, INDEX_NEAR_LIMIT), { minPrefix: 0, limit: 3, greedy: false });
  assert.deepStrictEqual(nearOptions({ limit: undefined, minPrefix: 2 }, INDEX_NEAR_LIMIT), { minPrefix: 2, limit: 10, greedy: false });
  assert.throws(() => nearOptions({ limit: -1 }, INDEX_NEAR_LIMIT), ValidationError);
});
