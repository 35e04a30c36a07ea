import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@silt/fs';
import { ReadOnlyIndex } from './read-only-index.js';
import { FixtureWriter } from './test-support/index-fixture.js';

/**
 * A string key with a lone surrogate has no UTF-8 form of its own: encoded,
 * 'k\uD800' is the bytes of 'k\uFFFD', so a read would find another key. A
 * reader refuses such a key or bound in every read.
 */
test('a reader refuses a key or bound with a lone surrogate in get, has, range, near and fuzzy', async () => {
  const writer = FixtureWriter.create('lone-surrogate-reads');
  await writer.flush([
    ['k\uFFFD', 'replacement character'],
    ['kz', 'other'],
  ]);
  await using reader = await ReadOnlyIndex.open(writer.directory, { watch: false });
  for (const [key, unit] of [
    ['k\uD800', 'D800'],
    ['k\uDBFF', 'DBFF'],
    ['\uDC00', 'DC00'],
  ] as const) {
    const problem = `must be well-formed UTF-16: it has a lone surrogate \\u${unit} at index ${key.length - 1}`;
    const refused = (what: string) => (error: unknown) => error instanceof ValidationError && error.message === `${what} ${problem}`;
    assert.throws(() => reader.get(key), refused('a key'));
    assert.throws(() => reader.has(key), refused('a key'));
    assert.throws(() => reader.near(key), refused('a key'));
    assert.throws(() => reader.fuzzy(key, 1), refused('a key'));
    for (const bound of ['gte', 'gt', 'lte', 'lt', 'prefix'] as const) {
      assert.throws(() => reader.range({ [bound]: key }), refused(`range option '${bound}'`));
    }
  }
  assert.equal(reader.get('k\uFFFD'), 'replacement character');
});

test('a reader reads keys with astral characters (surrogate pairs) as they were written', async () => {
  const writer = FixtureWriter.create('astral-reads');
  await writer.flush([
    ['😀', 'grinning'],
    ['a😀b', '𝄞'],
  ]);
  await using reader = await ReadOnlyIndex.open(writer.directory, { watch: false });
  assert.equal(reader.get('😀'), 'grinning');
  assert.equal(reader.has('a😀b'), true);
  assert.deepEqual([...reader.range({ prefix: 'a😀' })], [['a😀b', '𝄞']]);
  assert.deepEqual(reader.near('a😀c'), [['a😀b', '𝄞']]);
  assert.deepEqual(reader.fuzzy('a😁b', 1, { minPrefix: 1 }), [['a😀b', '𝄞']]);
});
