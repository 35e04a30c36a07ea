import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Key, Value } from './key-bytes.js';
import type { NearOptions } from './near.js';
import type { RangeOptions } from './range-options.js';
import type { SegmentInput } from './segment-builder.js';
import { SegmentReader } from './segment-reader.js';
import { buildFile, compareKeys, keyBytesOf, sortedUnique } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';
import { SegmentModel, assertReaderMatchesModel, toModelEntries, type ModelQueries } from './test-support/segment-model.js';

/**
 * For random sorted inputs, every read method of the reader, in both access
 * modes, equals the straightforward model over the input array. Small
 * blocks and small caches make the random segments exercise multi-block
 * seeks, evictions and blocks larger than the cache.
 */

const RUNS = process.env.SOAK === '1' ? 1000 : 60;
const dir = tempDir('model');

// Few distinct bytes, so keys share prefixes; 0x00 and 0xFF for the edges of prefix ranges.
const keyByte = fc.constantFrom(0x00, 0x61, 0x62, 0x63, 0xc3, 0xa9, 0xff);
const byteKey = fc.array(keyByte, { maxLength: 6 }).map((bytes) => Uint8Array.from(bytes));
const stringKey = fc
  .array(fc.constantFrom('a', 'b', 'c', 'é', '😀', '\u0000', '\uffff', '\ud800'), { maxLength: 5 })
  .map((units) => units.join(''));
const anyKey: fc.Arbitrary<Key> = fc.oneof(byteKey, stringKey);
const anyValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 300, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 200, maxLength: 900 }) },
);
const anyInput: fc.Arbitrary<SegmentInput> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: anyKey, value: anyValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tombstone' as const), key: anyKey }) },
);

const rangeOptions: fc.Arbitrary<RangeOptions> = fc
  .record(
    {
      lower: fc.option(fc.record({ key: anyKey, inclusive: fc.boolean() }), { nil: undefined }),
      upper: fc.option(fc.record({ key: anyKey, inclusive: fc.boolean() }), { nil: undefined }),
      prefix: fc.option(anyKey, { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat({ max: 8 }), { nil: undefined }),
    },
    { requiredKeys: ['reverse'] },
  )
  .map(({ lower, upper, prefix, reverse, limit }) => {
    const options: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = { reverse };
    if (lower !== undefined) options[lower.inclusive ? 'gte' : 'gt'] = lower.key;
    if (upper !== undefined) options[upper.inclusive ? 'lte' : 'lt'] = upper.key;
    if (prefix !== undefined) options.prefix = prefix;
    if (limit !== undefined) options.limit = limit;
    return options;
  });

const nearOptions: fc.Arbitrary<NearOptions> = fc.record(
  { minPrefix: fc.nat({ max: 4 }), limit: fc.nat({ max: 6 }), greedy: fc.boolean() },
  { requiredKeys: [] },
);

const layout = fc.record({
  blockSize: fc.constantFrom(64, 128, 512, 4096),
  cacheBytes: fc.constantFrom(0, 700, 2048, 1 << 20),
});

function queriesFor(
  inputs: readonly SegmentInput[],
  extraKeys: readonly Key[],
  ranges: readonly RangeOptions[],
  nears: ModelQueries['nears'],
): ModelQueries {
  const stored = inputs.map((input) => input.key);
  // Each stored key also as a prefix of itself and, when it round-trips, in its other type.
  const variants = stored.flatMap((key) => {
    const bytes = keyBytesOf(key);
    const text = Buffer.from(bytes).toString('utf8');
    const roundTrips = Buffer.from(text, 'utf8').equals(bytes);
    return [key, bytes.subarray(0, Math.max(0, bytes.length - 1)), ...(roundTrips ? [text] : [])];
  });
  return { keys: [...variants, ...extraKeys], ranges, nears };
}

async function checkBothModes(
  inputs: SegmentInput[],
  options: { blockSize: number; cacheBytes: number; multiValue?: boolean },
  queries: ModelQueries,
): Promise<void> {
  const path = await buildFile(dir, inputs, { blockSize: options.blockSize, multiValue: options.multiValue ?? false });
  const model = new SegmentModel(toModelEntries(inputs));
  for (const access of ['memory', 'mmap', 'file'] as const) {
    const reader = SegmentReader.open(path, { access, cacheBytes: options.cacheBytes, keyEncoding: 'binary' });
    try {
      assertReaderMatchesModel(reader, model, queries);
      reader.verify();
      const stats = reader.stats();
      assert.equal(stats.entries, inputs.length);
      assert.equal(stats.tombstones, inputs.filter((input) => input.kind === 'tombstone').length);
    } finally {
      reader.close();
    }
  }
}

test('every read method equals the model for random sorted inputs, in memory and file mode', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(anyInput, { maxLength: 60 }),
      fc.array(anyKey, { maxLength: 8 }),
      fc.array(rangeOptions, { maxLength: 8 }),
      fc.array(fc.record({ key: anyKey, options: nearOptions }), { maxLength: 6 }),
      layout,
      async (raw, extraKeys, ranges, nears, { blockSize, cacheBytes }) => {
        const inputs = sortedUnique(raw);
        await checkBothModes(inputs, { blockSize, cacheBytes }, queriesFor(inputs, extraKeys, ranges, nears));
      },
    ),
    { numRuns: RUNS },
  );
});

test('a multi-value segment returns every value of a key from getAll and equals the model everywhere else', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ kind: fc.constant('put' as const), key: anyKey, value: anyValue }), { maxLength: 60 }),
      fc.array(rangeOptions, { maxLength: 6 }),
      fc.array(fc.record({ key: anyKey, options: nearOptions }), { maxLength: 4 }),
      layout,
      async (raw, ranges, nears, { blockSize, cacheBytes }) => {
        // A stable sort keeps equal keys in the order given, which is the order getAll must return.
        const inputs = [...raw].sort((a, b) => compareKeys(a.key, b.key));
        await checkBothModes(inputs, { blockSize, cacheBytes, multiValue: true }, queriesFor(inputs, [], ranges, nears));
      },
    ),
    { numRuns: RUNS },
  );
});

test('string keys come back as the UTF-8 decoding of their bytes from a utf8 reader', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(anyInput, { maxLength: 40 }), layout, async (raw, { blockSize, cacheBytes }) => {
      const inputs = sortedUnique(raw);
      const path = await buildFile(dir, inputs, { blockSize });
      for (const access of ['memory', 'mmap', 'file'] as const) {
        const reader = SegmentReader.open(path, { access, cacheBytes });
        try {
          const expected = inputs.map((input) => Buffer.from(keyBytesOf(input.key)).toString('utf8'));
          assert.deepStrictEqual(
            [...reader.entries()].map((entry) => entry.key),
            expected,
          );
          assert.deepStrictEqual(
            [...reader.entries({ reverse: true })].map((entry) => entry.key),
            [...expected].reverse(),
          );
        } finally {
          reader.close();
        }
      }
    }),
    { numRuns: Math.ceil(RUNS / 2) },
  );
});
