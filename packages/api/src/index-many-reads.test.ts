import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ValidationError } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';

test('getMany reads memtables and segments in the order asked, undefined where absent or deleted', async () => {
  await using index = await Index.open(join(tempDir('get-many'), 'idx'));
  await index.mset([
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
  ]);
  await index.flush();
  await index.set('a', 'newer');
  await index.delete('b');
  assert.deepEqual(index.getMany(['c', 'b', 'a', 'zz', 'c']), ['3', undefined, 'newer', undefined, '3']);
  assert.throws(() => index.getMany(['a', 'k\uD800']), /^ValidationError: getMany key #1: a key must be well-formed UTF-16/);
  assert.throws(() => index.getMany(new Set(['a']) as unknown as string[]), ValidationError);
});

test('keys(), values() and for await over iterator() read what range() reads, across memtable and segments', async () => {
  await using index = await Index.open(join(tempDir('iterators'), 'idx'));
  await index.mset(Array.from({ length: 2500 }, (_, i) => [`k${String(i).padStart(4, '0')}`, String(i)] as const));
  await index.flush();
  await index.delete('k0001');
  await index.set('k0002', 'two');
  const options = { gte: 'k0000', lt: 'k0004' };
  assert.deepEqual([...index.keys(options)], ['k0000', 'k0002', 'k0003']);
  assert.deepEqual([...index.values({ ...options, reverse: true })], ['3', 'two', '0']);
  const pairs: Array<[unknown, unknown]> = [];
  for await (const pair of index.iterator()) pairs.push(pair);
  assert.deepEqual(pairs, [...index.range()]);
  assert.equal(pairs.length, 2499);
  assert.throws(() => index.iterator({ limit: -1 }), ValidationError);
});
