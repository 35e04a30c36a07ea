import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClosedError, ValidationError } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { ENTRY_ASCII, ENTRY_HEADER_BYTES, ENTRY_STRING, ENTRY_TOMBSTONE } from './format.js';
import { SegmentBuilder } from './segment-builder.js';
import type { AccessMode, SegmentBuilderOptions } from './segment-options.js';
import { SegmentReader, type EncodedEntry } from './segment-reader.js';
import {
  BUILDER_LAYOUTS,
  buildFile,
  buildWith,
  keyBytesOf,
  newSegmentPath,
  SEQUENCES,
  variedEntries,
} from './test-support/segment-fixtures.js';

const dir = tempDir('encoded');

/** Copies every entry of `source` into a new segment through `encodedEntries` and `addEncoded`. */
async function copyEncoded(source: string, access: AccessMode, options: Partial<SegmentBuilderOptions>): Promise<string> {
  using reader = SegmentReader.open(source, { access, keyEncoding: 'binary' });
  return buildWith(dir, options, (builder) => {
    for (const entry of reader.encodedEntries()) builder.addEncoded(entry.bytes, entry.at);
  });
}

for (const { name, options, entries } of BUILDER_LAYOUTS) {
  for (const access of ['memory', 'mmap', 'file'] as const) {
    test(`a segment copied entry by entry with encodedEntries and addEncoded is byte-identical to its source (${name}, ${access} mode)`, async () => {
      const source = await buildFile(dir, entries, options);
      const copy = await copyEncoded(source, access, options);
      const [original, copied] = [readFileSync(source), readFileSync(copy)];
      assert.ok(original.equals(copied), `the two files differ (${original.length} and ${copied.length} bytes)`);
    });
  }
}

test('encodedEntries gives every entry in key order, tombstones flagged, and its bytes stay valid after the reader moves on and closes', async () => {
  const entries = variedEntries(500, { tombstones: true, repeatKeys: false });
  const source = await buildFile(dir, entries, { blockSize: 128 });
  for (const access of ['memory', 'mmap', 'file'] as const) {
    const reader = SegmentReader.open(source, { access, keyEncoding: 'binary' });
    const held: EncodedEntry[] = [...reader.encodedEntries()];
    reader.close();
    assert.equal(held.length, entries.length, access);
    held.forEach((entry, i) => {
      const expected = entries[i]!;
      assert.deepEqual(Buffer.from(entry.key), Buffer.from(keyBytesOf(expected.key)), `${access}: key of entry #${i}`);
      assert.equal(entry.tombstone, expected.kind === 'tombstone', `${access}: entry #${i}`);
      const keyAt = entry.at + ENTRY_HEADER_BYTES;
      assert.deepEqual(Buffer.from(entry.bytes.subarray(keyAt, keyAt + entry.key.length)), Buffer.from(entry.key));
    });
  }
});

test('encodedEntries of a closed reader is a ClosedError', async () => {
  const reader = SegmentReader.open(await buildFile(dir, variedEntries(10, { tombstones: false, repeatKeys: false })), { access: 'file' });
  reader.close();
  assert.throws(() => reader.encodedEntries(), ClosedError);
});

/** One encoded entry: the 7-byte header, then key and value. */
function encoded(flags: number, key: Uint8Array, value: Uint8Array, lengths?: { key?: number; value?: number }): Uint8Array {
  const bytes = Buffer.alloc(ENTRY_HEADER_BYTES + key.length + value.length);
  bytes[0] = flags;
  bytes.writeUInt16LE(lengths?.key ?? key.length, 1);
  bytes.writeUInt32LE(lengths?.value ?? value.length, 3);
  bytes.set(key, ENTRY_HEADER_BYTES);
  bytes.set(value, ENTRY_HEADER_BYTES + key.length);
  return bytes;
}

const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

// A key longer than MAX_KEY_BYTES cannot be encoded: its length field is 16 bits.
test('addEncoded refuses an entry whose flags or lengths a reader would not trust, fails the build and leaves no file', async () => {
  const bad: Array<[string, Uint8Array, number, string]> = [
    ['unknown flags', encoded(0x40, text('b'), text('v')), 0, 'unknown entry flags'],
    ['a value flagged ASCII that is not', encoded(ENTRY_STRING | ENTRY_ASCII, text('b'), text('été')), 0, 'flagged ASCII'],
    ['ASCII without string', encoded(ENTRY_ASCII, text('b'), text('v')), 0, 'ASCII flag without the string flag'],
    ['a tombstone with a value', encoded(ENTRY_TOMBSTONE, text('b'), text('v')), 0, 'a tombstone with a value'],
    ['a header past the buffer', encoded(0, text('b'), text('v')), 5, 'outside its buffer'],
    ['a value past the buffer', encoded(0, text('b'), text('v'), { value: 50 }), 0, 'outside its buffer'],
    ['a key out of order', encoded(0, text('A'), text('v')), 0, 'below the previous key'],
    ['a key repeated', encoded(0, text('a'), text('v')), 0, 'duplicates the previous key'],
  ];
  for (const [what, bytes, at, message] of bad) {
    const path = newSegmentPath(dir);
    const builder = SegmentBuilder.create(path, SEQUENCES);
    builder.addEncoded(encoded(ENTRY_STRING | ENTRY_ASCII, text('a'), text('first')), 0);
    assert.throws(
      () => builder.addEncoded(bytes, at),
      (error: unknown) => error instanceof ValidationError && error.message.includes(message),
      what,
    );
    assert.equal(existsSync(path), false, `${what}: the partial file is removed`);
    await assert.rejects(builder.finish(), ClosedError, what);
  }
});

test('a tombstone in a multi-value segment is refused by addEncoded as by add', async () => {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, multiValue: true });
  assert.throws(() => builder.addEncoded(encoded(ENTRY_TOMBSTONE, text('a'), new Uint8Array(0)), 0), /tombstone in a multi-value segment/);
  assert.equal(existsSync(path), false);
});

test('entries added with addEncoded read back with their types: ASCII and UTF-8 text as strings, bytes as bytes, tombstones as tombstones', async () => {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, SEQUENCES);
  builder.addEncoded(encoded(ENTRY_STRING | ENTRY_ASCII, text('a'), text('plain')), 0);
  builder.addEncoded(encoded(ENTRY_STRING, text('b'), text('été')), 0);
  builder.addEncoded(encoded(0, text('c'), Uint8Array.of(0xc3, 0xa9)), 0);
  builder.addEncoded(encoded(ENTRY_TOMBSTONE, text('d'), new Uint8Array(0)), 0);
  await builder.finish();
  using reader = SegmentReader.open(path);
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
