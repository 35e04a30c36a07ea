import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ValidationError } from '@silt/fs';
import { ReadOnlyIndex, ValueDecodeError } from '@silt/reader';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { writerStats } from './test-support/writer-stats.js';

interface User {
  readonly name: string;
  readonly tags: readonly string[];
}

const ada: User = { name: 'Ada', tags: ['math'] };

test("valueEncoding 'json' writes JSON text and reads values back typed, through every read and a reader", async () => {
  const dir = join(tempDir('json'), 'idx');
  let index = await Index.open<User>(dir, { valueEncoding: 'json' });
  await index.set('u:1', ada);
  await index.mset([['u:2', { name: 'Bob', tags: [] }]]);
  await index.batch([
    { type: 'put', key: 'u:3', value: { name: 'Cy', tags: ['x'] } },
    { type: 'del', key: 'u:2' },
  ]);
  await index.batch().put('u:4', { name: 'Di', tags: [] }).write();
  const user: User | undefined = index.get('u:1');
  assert.deepEqual(user, ada);
  // @ts-expect-error: a json index of Users takes Users
  await assert.rejects(index.set('u:9', 5n), ValidationError);
  const check = (reads: Index<User> | ReadOnlyIndex<User>): void => {
    assert.deepEqual(reads.getMany(['u:1', 'u:2', 'u:3']), [ada, undefined, { name: 'Cy', tags: ['x'] }]);
    assert.deepEqual(
      [...reads.values({ gte: 'u:3' })].map((value) => value.name),
      ['Cy', 'Di'],
    );
    assert.deepEqual(reads.range({ limit: 1 }).next().value, ['u:1', ada]);
  };
  check(index);
  await index.close();
  index = await Index.open<User>(dir, { valueEncoding: 'json' });
  check(index);
  await index.flush();
  await using reader = await ReadOnlyIndex.open<User>(dir, { valueEncoding: 'json', watch: false });
  check(reader);
  // On disk it is the JSON text: an index opened without an encoding reads strings.
  await index.close();
  await using plain = await Index.open(dir);
  assert.equal(plain.get('u:1'), JSON.stringify(ada));
});

test("'json' refuses a value with no JSON form, and nothing of its call is written", async () => {
  await using index = await Index.open<unknown>(join(tempDir('json-refused'), 'idx'), { valueEncoding: 'json' });
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const value of [undefined, () => 1, Symbol('s'), 10n, cycle]) {
    await assert.rejects(index.set('k', value), ValidationError);
  }
  await assert.rejects(
    index.mset([
      ['a', 1],
      ['b', cycle],
    ]),
    /^ValidationError: mset pair #1: valueEncoding 'json' cannot serialise/,
  );
  await assert.rejects(
    index.batch([
      { type: 'put', key: 'a', value: 1 },
      { type: 'put', key: 'b', value: undefined },
    ]),
    /batch operation #1/,
  );
  assert.throws(() => index.batch().put('a', 1n), ValidationError);
  assert.equal(writerStats(index).lastSequence, 0);
  await index.set('null', null);
  assert.equal(index.get('null'), null);
  assert.equal(index.has('null'), true);
});

test("'utf8' and 'binary' take and give one type, reading what other encodings stored", async () => {
  const dir = join(tempDir('utf8-binary'), 'idx');
  let raw = await Index.open(dir);
  await raw.set('text', 'héllo');
  await raw.set('bytes', new TextEncoder().encode('bÿtes'));
  await raw.close();
  const text = await Index.open(dir, { valueEncoding: 'utf8' });
  const read: string | undefined = text.get('bytes');
  assert.equal(read, 'bÿtes');
  assert.deepEqual([...text.values()], ['bÿtes', 'héllo']);
  await assert.rejects(text.set('k', new Uint8Array(1) as unknown as string), /valueEncoding 'utf8' takes string values/);
  await text.close();
  const binary = await Index.open(dir, { valueEncoding: 'binary' });
  const bytes: Uint8Array | undefined = binary.get('text');
  assert.deepEqual(bytes, new TextEncoder().encode('héllo'));
  await assert.rejects(binary.set('k', 'text' as unknown as Uint8Array), /valueEncoding 'binary' takes Uint8Array values/);
  await binary.close();
  raw = await Index.open(dir);
  assert.equal(raw.get('text'), 'héllo');
  await raw.close();
});

test('a custom codec types and transforms values; what its encode throws or returns wrongly is a ValidationError', async () => {
  const dates = {
    encode: (date: Date): string => {
      if (Number.isNaN(date.getTime())) throw new RangeError('an invalid date');
      return date.toISOString();
    },
    decode: (stored: string | Uint8Array): Date => new Date(typeof stored === 'string' ? stored : new TextDecoder().decode(stored)),
  };
  await using index = await Index.open(join(tempDir('codec'), 'idx'), { valueEncoding: dates });
  const when = new Date('2026-12-04T17:00:00Z');
  await index.set('when', when);
  const back: Date | undefined = index.get('when');
  assert.equal(back?.getTime(), when.getTime());
  await assert.rejects(index.set('bad', new Date(Number.NaN)), /the valueEncoding's encode refused a value: an invalid date/);
  const broken = { encode: (): string => 5 as unknown as string, decode: (stored: string | Uint8Array) => stored };
  await using other = await Index.open(join(tempDir('codec-broken'), 'idx'), { valueEncoding: broken });
  await assert.rejects(other.set('k', 'v'), /must return a string or a Uint8Array, got number/);
  assert.equal(writerStats(other).lastSequence, 0);
});

test('valueEncoding is checked with the other options', async () => {
  const dir = join(tempDir('encoding-option'), 'idx');
  await assert.rejects(Index.open(dir, { valueEncoding: 'msgpack' as 'json' }), /valueEncoding/);
  await assert.rejects(Index.open(dir, { valueEncoding: { encode: (value: string) => value } as never }), ValidationError);
});

test("a stored value 'json' cannot parse is a ValueDecodeError on read", async () => {
  const dir = join(tempDir('json-decode'), 'idx');
  const raw = await Index.open(dir);
  await raw.set('k', 'not json');
  await raw.close();
  await using json = await Index.open(dir, { valueEncoding: 'json' });
  assert.throws(() => json.get('k'), ValueDecodeError);
});

test('the change feed hands values over decoded by the valueEncoding, on the writer and on a reader', async () => {
  const dir = join(tempDir('json-changes'), 'idx');
  await using index = await Index.open<User>(dir, { valueEncoding: 'json' });
  await using reader = await ReadOnlyIndex.open<User>(dir, { valueEncoding: 'json' });
  const fromWriter = index.changes({ since: 0 });
  const fromReader = reader.changes({ since: 0 });
  await index.batch([
    { type: 'put', key: 'u:1', value: ada },
    { type: 'del', key: 'u:1' },
  ]);
  for (const feed of [fromWriter, fromReader]) {
    const first = await feed.next();
    const user: User | undefined = first.done === true || first.value.deleted === true ? undefined : first.value.value;
    assert.equal(user?.name, 'Ada');
    assert.deepEqual(first.value, { key: 'u:1', value: ada, sequence: 1 });
    assert.deepEqual((await feed.next()).value, { key: 'u:1', deleted: true, sequence: 2 });
    feed.close();
  }
});

test('keys come back typed by keyEncoding: strings by default and for utf8, Uint8Arrays for binary', async () => {
  const dir = join(tempDir('key-types'), 'idx');
  const plain = await Index.open(dir);
  await plain.set('k', 'v');
  const key: string | undefined = [...plain.keys()][0];
  assert.equal(key, 'k');
  await plain.close();
  const binary = await Index.open(dir, { keyEncoding: 'binary', valueEncoding: 'utf8' });
  const bytes: Uint8Array | undefined = [...binary.range()][0]?.[0];
  // @ts-expect-error: a binary index's keys are not strings
  const notText: string | undefined = [...binary.keys()][0];
  assert.deepEqual(bytes, new TextEncoder().encode('k'));
  assert.equal(typeof notText, 'object');
  await binary.close();
  const json = await Index.open(dir, { valueEncoding: 'json', keyEncoding: 'binary' });
  const jsonKey: Uint8Array | undefined = [...json.keys()][0];
  assert.ok(jsonKey instanceof Uint8Array);
  await json.close();
  // With a type argument the options' type is not inferred: keys are either kind.
  await using typed = await Index.open<User>(dir, { valueEncoding: 'json', keyEncoding: 'utf8' });
  // @ts-expect-error: not known to be a string
  const text: string | undefined = [...typed.keys()][0];
  assert.equal(text, 'k');
});
