import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@silt/fs';
import { ReadOnlyIndex } from './read-only-index.js';
import { ValueDecodeError } from './value-encoding.js';
import { FixtureWriter } from './test-support/index-fixture.js';

const FIXED = { watch: false } as const;

async function twoSegments(label: string): Promise<FixtureWriter> {
  const writer = FixtureWriter.create(label);
  await writer.flush([
    ['a', 'old'],
    ['b', '2'],
    ['c', 'gone'],
    ['d', '4'],
  ]);
  await writer.flush([
    ['a', '1'],
    ['c', null],
  ]);
  return writer;
}

test('getMany reads every key from one snapshot, in order, undefined where absent or deleted', async () => {
  const writer = await twoSegments('get-many');
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  assert.deepEqual(reader.getMany(['d', 'a', 'c', 'zz', 'a', new TextEncoder().encode('b')]), ['4', '1', undefined, undefined, '1', '2']);
  assert.deepEqual(reader.getMany([]), []);
  assert.throws(
    () => reader.getMany(['a', 7 as unknown as string]),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^getMany key #1: a key must be a string or a Uint8Array/);
      return true;
    },
  );
  assert.throws(() => reader.getMany('a' as unknown as string[]), ValidationError);
});

test('keys(), values() and iterator() take the range options of range()', async () => {
  const writer = await twoSegments('iterators');
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  assert.deepEqual([...reader.keys()], ['a', 'b', 'd']);
  assert.deepEqual([...reader.values({ gt: 'a', reverse: true })], ['4', '2']);
  assert.deepEqual([...reader.keys({ prefix: 'b' })], ['b']);
  const seen: Array<[string, string]> = [];
  for await (const [key, value] of reader.iterator({ gte: 'b' })) seen.push([key as string, value as string]);
  assert.deepEqual(seen, [
    ['b', '2'],
    ['d', '4'],
  ]);
  assert.throws(() => reader.keys({ gte: 1 as unknown as string }), ValidationError);
});

test('an async iterator over more entries than one turn hands over every one, and break lets its snapshot go', async () => {
  const writer = FixtureWriter.create('async-long');
  const entries = Array.from({ length: 3000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, String(i)] as const);
  await writer.flush(entries);
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  let count = 0;
  for await (const [key, value] of reader.iterator()) {
    assert.equal(key, entries[count]![0]);
    assert.equal(value, entries[count]![1]);
    count++;
  }
  assert.equal(count, 3000);
  const iterator = reader.iterator();
  for await (const entry of iterator) {
    assert.deepEqual(entry, ['k00000', '0']);
    break;
  }
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

test("valueEncoding 'json' reads stored JSON text back as values, and refuses text that is not JSON with a ValueDecodeError", async () => {
  const writer = FixtureWriter.create('json');
  await writer.flush([
    ['user:1', JSON.stringify({ name: 'Ada', age: 36 })],
    ['user:2', 'not json'],
  ]);
  await using reader = await ReadOnlyIndex.open<{ name: string; age: number }>(writer.directory, { ...FIXED, valueEncoding: 'json' });
  const user = reader.get('user:1');
  assert.deepEqual(user, { name: 'Ada', age: 36 });
  assert.deepEqual(reader.getMany(['user:1', 'user:9']), [{ name: 'Ada', age: 36 }, undefined]);
  assert.throws(() => reader.get('user:2'), ValueDecodeError);
  assert.equal(reader.has('user:2'), true, 'has does not decode');
  assert.deepEqual([...reader.values({ lt: 'user:2' })], [{ name: 'Ada', age: 36 }]);
});

test("valueEncoding 'binary' and a custom codec decode what was stored as text", async () => {
  const writer = FixtureWriter.create('codecs');
  await writer.flush([['n', '42']]);
  await using binary = await ReadOnlyIndex.open(writer.directory, { ...FIXED, valueEncoding: 'binary' });
  assert.deepEqual(binary.get('n'), new TextEncoder().encode('42'));
  const numbers = { encode: (value: number) => String(value), decode: (stored: string | Uint8Array) => Number(stored) };
  await using custom = await ReadOnlyIndex.open(writer.directory, { ...FIXED, valueEncoding: numbers });
  const n: number | undefined = custom.get('n');
  assert.equal(n, 42);
});

test('a valueEncoding that is neither a known name nor a codec is a ValidationError', async () => {
  const writer = FixtureWriter.create('bad-encoding');
  await assert.rejects(ReadOnlyIndex.open(writer.directory, { valueEncoding: 'msgpack' as 'json' }), ValidationError);
  await assert.rejects(ReadOnlyIndex.open(writer.directory, { valueEncoding: { encode: () => '' } as never }), ValidationError);
});
