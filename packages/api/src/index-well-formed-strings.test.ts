import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ValidationError } from '@silt/fs';
import { Index } from './index-handle.js';
import { tempDir } from '@silt/test-support';
import { writerStats } from './test-support/writer-stats.js';

/**
 * A lone surrogate has no UTF-8 form: stored, it would become U+FFFD, so
 * 'k\uD800' and 'k\uDBFF' would be one key and a value would read back
 * changed. The index refuses such strings at every call that takes one.
 */

const LONE_KEYS = ['k\uD800', 'k\uDBFF'];

/** A check for assert.throws/rejects: a ValidationError with exactly this message. */
function refused(message: string): (error: unknown) => boolean {
  return (error) => error instanceof ValidationError && error.message === message;
}

const loneKey = (unit: string): string => `a key must be well-formed UTF-16: it has a lone surrogate \\u${unit} at index 1`;

test('set, mset and delete refuse a key with a lone surrogate, and write nothing', async () => {
  await using index = await Index.open(join(tempDir('lone-key-writes'), 'idx'));
  for (const [key, unit] of [
    [LONE_KEYS[0]!, 'D800'],
    [LONE_KEYS[1]!, 'DBFF'],
  ] as const) {
    await assert.rejects(index.set(key, 'v'), refused(loneKey(unit)));
    await assert.rejects(index.mset([[key, 'v']]), refused(`mset pair #0: ${loneKey(unit)}`));
    await assert.rejects(index.delete(key), refused(loneKey(unit)));
  }
  await assert.rejects(
    index.mset([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['k\uD800', '4'],
      ['e', '5'],
    ]),
    refused(`mset pair #3: ${loneKey('D800')}`),
  );
  assert.equal(writerStats(index).lastSequence, 0, 'no write got a sequence number');
  assert.deepEqual([...index.range()], [], 'a batch with one bad pair wrote none');
  assert.equal(index.get('k\uFFFD'), undefined, 'nothing was stored under the replacement character');
});

test('a value with a lone surrogate is refused by set and mset, and writes nothing', async () => {
  await using index = await Index.open(join(tempDir('lone-value'), 'idx'));
  await index.set('k', 'kept');
  const sequence = writerStats(index).lastSequence;
  await assert.rejects(
    index.set('k', 'v\uD800'),
    refused('a value must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1'),
  );
  await assert.rejects(index.set('k', '\uDC00'), ValidationError);
  await assert.rejects(
    index.mset([
      ['a', '1'],
      ['k', 'x\uDFFFy'],
    ]),
    refused('mset pair #1: a value must be well-formed UTF-16: it has a lone surrogate \\uDFFF at index 1'),
  );
  assert.equal(writerStats(index).lastSequence, sequence);
  assert.deepEqual([...index.range()], [['k', 'kept']]);
});

test('get, has, range, near and fuzzy refuse a key or bound with a lone surrogate, from the memtable and from a segment', async () => {
  await using index = await Index.open(join(tempDir('lone-reads'), 'idx'));
  await index.set('k\uFFFD', 'stored under the replacement character');
  const checkReads = (): void => {
    for (const [key, unit] of [
      [LONE_KEYS[0]!, 'D800'],
      [LONE_KEYS[1]!, 'DBFF'],
    ] as const) {
      assert.throws(() => index.get(key), refused(loneKey(unit)), 'get must not find the key stored as k\\uFFFD');
      assert.throws(() => index.has(key), refused(loneKey(unit)));
      assert.throws(() => index.near(key), refused(loneKey(unit)));
      assert.throws(() => index.fuzzy(key, 1), refused(loneKey(unit)));
      for (const bound of ['gte', 'gt', 'lte', 'lt', 'prefix'] as const) {
        assert.throws(
          () => index.range({ [bound]: key }),
          refused(`range option '${bound}' must be well-formed UTF-16: it has a lone surrogate \\u${unit} at index 1`),
        );
      }
    }
  };
  checkReads();
  await index.flush();
  checkReads();
  assert.equal(index.get('k\uFFFD'), 'stored under the replacement character', 'the well-formed key still reads');
});

test('an astral character (a surrogate pair) is accepted in keys, values and bounds, and reads back identical after a flush and a reopen', async () => {
  const dir = join(tempDir('astral'), 'idx');
  const key = 'smile 😀';
  const value = '😀 \uD83D\uDE00 𝄞';
  {
    await using index = await Index.open(dir);
    await index.set(key, value);
    await index.mset([
      ['😀', '😀'],
      ['k\uDBFF\uDFFF', 'last plane'],
    ]);
    await index.flush();
    assert.equal(index.get(key), value);
  }
  await using reopened = await Index.open(dir);
  assert.equal(reopened.get(key), value);
  assert.equal(reopened.has('😀'), true);
  assert.equal(reopened.get('k\uDBFF\uDFFF'), 'last plane');
  assert.deepEqual([...reopened.range({ prefix: 'smile 😀' })], [[key, value]]);
  assert.deepEqual([...reopened.range({ gte: '😀' })], [['😀', '😀']], 'U+1F600 sorts after ASCII');
  assert.deepEqual(reopened.near('smile 😀!'), [[key, value]]);
  assert.deepEqual(reopened.fuzzy('smile 😁', 1), [[key, value]]);
  await reopened.delete('😀');
  assert.equal(reopened.get('😀'), undefined);
});
