import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClosedError, ValidationError } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { MAX_KEY_BYTES } from './format.js';
import { SegmentBuilder, type SegmentInput } from './segment-builder.js';
import type { SegmentBuilderOptions } from './segment-options.js';
import { SegmentReader } from './segment-reader.js';
import {
  BUILDER_LAYOUTS,
  buildFile,
  buildWith,
  keyBytesOf,
  newSegmentPath,
  SEQUENCES,
  variedEntries,
} from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';

const dir = tempDir('slices');

/** An entry as addSlices takes it: the key and value as UTF-8 bytes, and whether the value was text. */
interface SliceEntry {
  readonly kind: 'put' | 'tombstone';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly valueIsText: boolean;
}

function toSlices(entry: SegmentInput): SliceEntry {
  const key = keyBytesOf(entry.key);
  if (entry.kind === 'tombstone') return { kind: 'tombstone', key, value: new Uint8Array(0), valueIsText: false };
  const text = typeof entry.value === 'string' || entry.valueIsText === true;
  return { kind: 'put', key, value: keyBytesOf(entry.value), valueIsText: text };
}

/** Filler between slices: bytes above 0x7f, so a text check that strays out of its value sees non-ASCII. */
const FILLER = 0xa5;

interface Placed extends SliceEntry {
  readonly keyStart: number;
  readonly valueStart: number;
}

/**
 * Lays every key and value into one buffer, with filler between them and
 * sometimes the value before the key, as no two entries of a log file or a
 * block are laid out alike.
 */
function layOut(entries: readonly SliceEntry[], random: SeededRandom): { bytes: Uint8Array; placed: Placed[] } {
  const total = entries.reduce((sum, entry) => sum + entry.key.length + entry.value.length + 16, 0);
  const bytes = new Uint8Array(total).fill(FILLER);
  const placed: Placed[] = [];
  let at = 0;
  for (const entry of entries) {
    const valueFirst = random.chance(0.3);
    at += random.intBetween(0, 7);
    const first = valueFirst ? entry.value : entry.key;
    const firstStart = at;
    bytes.set(first, at);
    at += first.length + random.intBetween(0, 7);
    const secondStart = at;
    bytes.set(valueFirst ? entry.key : entry.value, at);
    at += (valueFirst ? entry.key : entry.value).length;
    placed.push({ ...entry, keyStart: valueFirst ? secondStart : firstStart, valueStart: valueFirst ? firstStart : secondStart });
  }
  return { bytes, placed };
}

async function buildWithSlices(entries: readonly SegmentInput[], options: Partial<SegmentBuilderOptions>, seed: number): Promise<string> {
  const { bytes, placed } = layOut(entries.map(toSlices), new SeededRandom(seed));
  return buildWith(dir, options, (builder) => {
    for (const entry of placed) {
      builder.addSlices(entry.kind, bytes, entry.keyStart, entry.key.length, entry.valueStart, entry.value.length, entry.valueIsText);
    }
  });
}

for (const { name, options, entries } of BUILDER_LAYOUTS) {
  test(`a segment built with addSlices from one buffer is byte-identical to the same entries built with add (${name})`, async () => {
    const byAdd = readFileSync(await buildFile(dir, entries, options));
    const bySlices = readFileSync(await buildWithSlices(entries, options, 3));
    assert.ok(byAdd.equals(bySlices), `the two files differ (${byAdd.length} and ${bySlices.length} bytes)`);
  });
}

test('values given as text through addSlices read back as strings, bytes as bytes', async () => {
  const entries: SegmentInput[] = [
    { kind: 'put', key: 'a', value: 'plain' },
    { kind: 'put', key: 'b', value: 'été' },
    { kind: 'put', key: 'c', value: Uint8Array.of(0xc3, 0xa9) },
    { kind: 'tombstone', key: 'd' },
  ];
  using reader = SegmentReader.open(await buildWithSlices(entries, {}, 5));
  assert.deepStrictEqual(
    [...reader.entries()],
    [
      { key: 'a', kind: 'put', value: 'plain' },
      { key: 'b', kind: 'put', value: 'été' },
      { key: 'c', kind: 'put', value: Uint8Array.of(0xc3, 0xa9) },
      { key: 'd', kind: 'tombstone' },
    ],
  );
});

test('addSlices copies the slices: the buffer may be reused for the next entry', async () => {
  const entries = variedEntries(200, { tombstones: true, repeatKeys: false });
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, SEQUENCES);
  const scratch = new Uint8Array(4096);
  for (const entry of entries.map(toSlices)) {
    scratch.fill(FILLER);
    scratch.set(entry.key, 1);
    scratch.set(entry.value, 2 + entry.key.length);
    builder.addSlices(entry.kind, scratch, 1, entry.key.length, 2 + entry.key.length, entry.value.length, entry.valueIsText);
  }
  await builder.finish();
  assert.ok(readFileSync(await buildFile(dir, entries)).equals(readFileSync(path)));
});

test(`a key of ${MAX_KEY_BYTES} bytes is taken; one byte more is a ValidationError that fails the build and leaves no file`, async () => {
  const bytes = new Uint8Array(MAX_KEY_BYTES + 10).fill(0x6b);
  const longest = newSegmentPath(dir);
  const accepted = SegmentBuilder.create(longest, SEQUENCES);
  accepted.addSlices('put', bytes, 0, MAX_KEY_BYTES, MAX_KEY_BYTES, 3, true);
  await accepted.finish();
  using reader = SegmentReader.open(longest);
  assert.equal(reader.get('k'.repeat(MAX_KEY_BYTES)), 'kkk');

  for (const kind of ['put', 'tombstone'] as const) {
    const path = newSegmentPath(dir);
    const builder = SegmentBuilder.create(path, SEQUENCES);
    builder.addSlices('put', Buffer.from('a=1'), 0, 1, 2, 1, true);
    assert.throws(
      () => builder.addSlices(kind, bytes, 0, MAX_KEY_BYTES + 1, 0, 0, false),
      (error: unknown) =>
        error instanceof ValidationError && error.message.includes(`at most ${MAX_KEY_BYTES} bytes`) && error.message.includes('entry #1'),
    );
    assert.equal(existsSync(path), false, 'the partial file is removed');
    assert.throws(() => builder.addSlices('put', Buffer.from('b=2'), 0, 1, 2, 1, true), ClosedError);
    await assert.rejects(builder.finish(), ClosedError);
    assert.equal(existsSync(path), false);
  }
});

test('a slice outside its buffer is a ValidationError that fails the build, never stale bytes of another entry', async () => {
  for (const [keyStart, keyLength, valueStart, valueLength] of [
    [0, 1, 1, 1000],
    [-1, 1, 1, 1],
    [0, 3, 1, 1],
    [0, 1, 1.5, 1],
  ] as const) {
    const path = newSegmentPath(dir);
    const builder = SegmentBuilder.create(path, SEQUENCES);
    builder.add({ kind: 'put', key: 'a', value: 'x'.repeat(5000) });
    assert.throws(
      () => builder.addSlices('put', Buffer.from('bz'), keyStart, keyLength, valueStart, valueLength, false),
      (error: unknown) => error instanceof ValidationError && /outside its buffer of 2 bytes/.test(error.message),
    );
    assert.equal(existsSync(path), false, 'the partial file is removed');
  }
});
