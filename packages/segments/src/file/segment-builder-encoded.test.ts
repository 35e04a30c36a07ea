import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClosedError, ValidationError } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { DEFAULT_BLOCK_SIZE, ENTRY_ASCII, ENTRY_HEADER_BYTES, ENTRY_STRING, ENTRY_TOMBSTONE } from './format.js';
import { hashKeyBytes } from './key-hash.js';
import { readU16, readU32 } from './little-endian.js';
import { KeyOrderError } from './segment-errors.js';
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

/** A run's entries cut into blocks as a builder closes them (at `blockSize` bytes or more), each with its keys' hashes and offsets. */
function blocksOf(run: Uint8Array, blockSize: number): Array<{ bytes: Uint8Array; hashes: Uint32Array; offsets: Uint32Array }> {
  const blocks = [];
  let start = 0;
  let offsets: number[] = [];
  for (let at = 0; at < run.length;) {
    offsets.push(at - start);
    at += ENTRY_HEADER_BYTES + readU16(run, at + 1) + readU32(run, at + 3);
    if (at - start < blockSize && at < run.length) continue;
    const bytes = run.subarray(start, at);
    const hashes = offsets.map((offset) => hashKeyBytes(bytes, offset + ENTRY_HEADER_BYTES, readU16(bytes, offset + 1)));
    blocks.push({ bytes, hashes: Uint32Array.from(hashes), offsets: Uint32Array.from(offsets) });
    start = at;
    offsets = [];
  }
  return blocks;
}

for (const { name, options, entries } of BUILDER_LAYOUTS.filter((layout) => layout.options.multiValue !== true)) {
  for (const access of ['memory', 'mmap', 'file'] as const) {
    test(`a segment copied block by block with encodedRuns and addEncodedBlock is byte-identical to its source (${name}, ${access} mode)`, async () => {
      const source = await buildFile(dir, entries, options);
      using reader = SegmentReader.openForScan(source, { access, keyEncoding: 'binary' });
      const runs = reader.encodedRuns();
      const copy = await buildWith(dir, options, (builder) => {
        for (let run = runs.next(); run !== undefined; run = runs.next()) {
          for (const block of blocksOf(run, options.blockSize ?? DEFAULT_BLOCK_SIZE))
            builder.addEncodedBlock(block.bytes, block.hashes, block.offsets);
        }
      });
      assert.ok(readFileSync(source).equals(readFileSync(copy)));
    });
  }
}

test('addEncodedBlock refuses a block it cannot take whole, fails the build and leaves no file', async () => {
  const first = encoded(ENTRY_STRING | ENTRY_ASCII, text('m'), text('first'));
  const block = (entries: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(entries));
  const one = (): [Uint32Array, Uint32Array] => [Uint32Array.of(0), Uint32Array.of(0)];
  const bad: Array<[string, (builder: SegmentBuilder) => void, RegExp | typeof KeyOrderError]> = [
    [
      'entries added one by one first',
      (builder) => (builder.addEncoded(first, 0), builder.addEncodedBlock(block([encoded(0, text('z'), text('v'))]), ...one())),
      /open block empty/,
    ],
    [
      'a hash missing',
      (builder) => builder.addEncodedBlock(first, new Uint32Array(0), Uint32Array.of(0)),
      /a hash and an offset for each entry/,
    ],
    [
      'offsets that do not tile it',
      (builder) => builder.addEncodedBlock(block([first, first]), Uint32Array.of(0, 0), Uint32Array.of(0, 5)),
      /not where the one before it ends/,
    ],
    ['bytes past its last entry', (builder) => builder.addEncodedBlock(block([first, text('xx')]), ...one()), /entries end at/],
    ['unknown flags', (builder) => builder.addEncodedBlock(encoded(0x40, text('m'), text('v')), ...one()), /unknown entry flags/],
    [
      'an entry past the block size',
      (builder) =>
        builder.addEncodedBlock(
          block([encoded(0, text('m'), text('v'.repeat(5000))), encoded(0, text('n'), text('v'))]),
          Uint32Array.of(0, 0),
          Uint32Array.of(0, 5008),
        ),
      /past the block size 4096/,
    ],
    [
      'a first key not above the block before',
      (builder) => (builder.addEncodedBlock(first, ...one()), builder.addEncodedBlock(encoded(0, text('a'), text('v')), ...one())),
      KeyOrderError,
    ],
  ];
  for (const [what, add, expected] of bad) {
    const path = newSegmentPath(dir);
    const builder = SegmentBuilder.create(path, SEQUENCES);
    assert.throws(() => add(builder), expected, what);
    assert.equal(existsSync(path), false, `${what}: the partial file is removed`);
    await assert.rejects(builder.finish(), ClosedError, what);
  }
  const multiValue = SegmentBuilder.create(newSegmentPath(dir), { ...SEQUENCES, multiValue: true });
  assert.throws(() => multiValue.addEncodedBlock(first, ...one()), /single-value segments only/);
});
