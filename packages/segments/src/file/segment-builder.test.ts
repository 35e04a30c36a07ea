import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  ClosedError,
  CrashSimFileSystem,
  FaultInjectingFileSystem,
  IoError,
  ValidationError,
  nodeFileSystem,
  type FaultOperation,
} from '@silt/fs';
import {
  ENTRY_ASCII,
  ENTRY_STRING,
  FOOTER,
  FOOTER_BYTES,
  FORMAT_VERSION,
  HEADER_BYTES,
  HEADER_MAGIC,
  SEGMENT_MAX_VALUE_BYTES,
} from './format.js';
import { readU16, readU32, readU64 } from './little-endian.js';
import { SegmentBuilder, buildPathOf, buildSegment, type SegmentInput } from './segment-builder.js';
import { basename } from 'node:path';
import { SYNC_EVERY_BYTES } from './output-file.js';
import { KeyOrderError } from './segment-errors.js';
import { SegmentReader } from './segment-reader.js';
import { buildFile, newSegmentPath, sampleEntries, SEQUENCES } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';

const dir = tempDir('builder');

function expectRejectedAndRemoved(path: string, add: (builder: SegmentBuilder) => void, error: (thrown: unknown) => boolean): void {
  const builder = SegmentBuilder.create(path, SEQUENCES);
  assert.throws(() => add(builder), error);
  assert.equal(existsSync(path), false, 'the partial file is removed');
  assert.throws(() => builder.put('z', 'z'), ClosedError, 'the builder is unusable after a rejection');
}

test('a build writes one file with the documented layout: header, data blocks, indexes, footer', async () => {
  const path = newSegmentPath(dir);
  const result = await buildSegment(
    path,
    [
      { kind: 'put', key: 'a', value: 'xy' },
      { kind: 'tombstone', key: 'b' },
    ],
    { ...SEQUENCES, blockSize: 64 },
  );
  const bytes = readFileSync(path);
  assert.equal(result.bytes, bytes.length);
  assert.deepStrictEqual(
    { entries: result.entries, tombstones: result.tombstones, blocks: result.blocks },
    { entries: 2, tombstones: 1, blocks: 1 },
  );
  assert.deepStrictEqual(bytes.subarray(0, 8), Buffer.from(HEADER_MAGIC));
  assert.equal(readU32(bytes, 8), FORMAT_VERSION);
  // The data section starts right after the header: a put of 'a' = 'xy' (string, ASCII), then a tombstone of 'b'.
  assert.deepStrictEqual(
    [...bytes.subarray(HEADER_BYTES, HEADER_BYTES + 10)],
    [ENTRY_STRING | ENTRY_ASCII, 1, 0, 2, 0, 0, 0, 0x61, 0x78, 0x79],
  );
  assert.deepStrictEqual([...bytes.subarray(HEADER_BYTES + 10, HEADER_BYTES + 18)], [1, 1, 0, 0, 0, 0, 0, 0x62]);
  const footer = bytes.subarray(bytes.length - FOOTER_BYTES);
  assert.equal(footer.subarray(FOOTER.magic).toString('latin1'), 'SEGF');
  assert.equal(readU32(footer, FOOTER.footerCrc), crc32(footer.subarray(0, FOOTER.footerCrc)));
  assert.deepStrictEqual(
    [FOOTER.dataOffset, FOOTER.dataLength, FOOTER.entryCount, FOOTER.tombstoneCount, FOOTER.minSequence, FOOTER.maxSequence].map((at) =>
      readU64(footer, at),
    ),
    [HEADER_BYTES, 18, 2, 1, SEQUENCES.minSequence, SEQUENCES.maxSequence],
  );
  const blockIndex = bytes.subarray(readU64(footer, FOOTER.blockIndexOffset));
  assert.deepStrictEqual([readU32(blockIndex, 0), readU32(blockIndex, 4), readU16(blockIndex, 8)], [18, crc32(bytes.subarray(32, 50)), 1]);
  assert.equal(readU64(footer, FOOTER.hashOffset) % 8, 0);
});

test('entries out of key-byte order are rejected with KeyOrderError and no file is left', () => {
  expectRejectedAndRemoved(
    newSegmentPath(dir),
    (builder) => {
      builder.put('b', '1');
      builder.put('a', '2');
    },
    (error) => error instanceof KeyOrderError && error.reason === 'unsorted' && error.entryIndex === 1 && error instanceof ValidationError,
  );
  // Byte order, not UTF-16 order: U+FF61 (EF BD A1) sorts below U+1F600 (F0 9F 98 80) by bytes but above it by code units.
  expectRejectedAndRemoved(
    newSegmentPath(dir),
    (builder) => {
      builder.put('😀', '1');
      builder.put('｡', '2');
    },
    (error) => error instanceof KeyOrderError && error.reason === 'unsorted',
  );
});

test('the order check holds across block boundaries: a repeated or lower key right after a block closed is rejected', () => {
  // 31-byte entries in 64-byte blocks: a block closes after every third entry, so the checks fall inside blocks and at their starts.
  const keyAt = (i: number): string => `k-${String(i).padStart(2, '0')}`;
  for (let last = 0; last < 9; last++) {
    for (const [next, reason] of [
      [keyAt(last), 'duplicate'],
      [`${keyAt(last).slice(0, -1)}`, 'unsorted'],
    ] as const) {
      const builder = SegmentBuilder.create(newSegmentPath(dir), { ...SEQUENCES, blockSize: 64 });
      for (let i = 0; i <= last; i++) builder.put(keyAt(i), 'v'.repeat(20));
      assert.throws(
        () => builder.put(next, 'v'),
        (error) =>
          error instanceof KeyOrderError && error.reason === reason && error.entryIndex === last + 1 && error.message.includes(keyAt(last)),
      );
    }
  }
});

test('a multi-value segment keeps a key repeated across a block boundary', async () => {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, blockSize: 64, multiValue: true });
  for (let i = 0; i < 7; i++) builder.put('same-key', `value-${i}-${'v'.repeat(20)}`);
  await builder.finish();
  using reader = SegmentReader.open(path);
  assert.equal(reader.stats().blocks > 2, true);
  assert.equal(reader.stats().entries, 7);
  assert.equal(reader.stats().distinctKeys, 1);
});

test('a repeated key is rejected with KeyOrderError (duplicate) unless the segment is multi-value', async () => {
  expectRejectedAndRemoved(
    newSegmentPath(dir),
    (builder) => {
      builder.put('a', '1');
      builder.tombstone('a');
    },
    (error) => error instanceof KeyOrderError && error.reason === 'duplicate' && /multiValue/.test(error.message),
  );
  const path = await buildFile(
    dir,
    [
      { kind: 'put', key: 'a', value: '1' },
      { kind: 'put', key: 'a', value: Uint8Array.of(2) },
      { kind: 'put', key: 'b', value: '3' },
      { kind: 'put', key: 'b', value: '4' },
    ],
    { multiValue: true },
  );
  using reader = SegmentReader.open(path);
  assert.deepStrictEqual(reader.getAll('a'), ['1', Uint8Array.of(2)]);
  assert.deepStrictEqual(reader.getAll('b'), ['3', '4']);
  assert.equal(reader.get('a'), '1');
  assert.deepStrictEqual(reader.stats().distinctKeys, 2);
  assert.equal(reader.stats().multiValue, true);
});

test('a multi-value segment refuses tombstones', () => {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, multiValue: true });
  assert.throws(() => builder.tombstone('a'), ValidationError);
  assert.equal(existsSync(path), false);
});

test('keys and values beyond the limits, and values of the wrong type, are ValidationErrors that leave no file', () => {
  const cases: Array<[string, (builder: SegmentBuilder) => void]> = [
    ['a 65536-byte key', (builder) => builder.put('k'.repeat(65536), 'v')],
    ['a 65536-byte binary key', (builder) => builder.put(new Uint8Array(65536), 'v')],
    ['a key of 30000 three-byte characters', (builder) => builder.put('€'.repeat(30000), 'v')],
    ['a value over 256 MiB', (builder) => builder.put('k', new Uint8Array(SEGMENT_MAX_VALUE_BYTES + 1))],
    ['a number value', (builder) => builder.put('k', 5 as unknown as string)],
    ['a missing value', (builder) => builder.add({ kind: 'put', key: 'k' } as unknown as SegmentInput)],
    ['an object key', (builder) => builder.put({} as unknown as string, 'v')],
    ['an unknown kind', (builder) => builder.add({ kind: 'delete', key: 'k' } as unknown as SegmentInput)],
  ];
  for (const [what, add] of cases) {
    expectRejectedAndRemoved(newSegmentPath(dir), add, (error) => error instanceof ValidationError && !(error instanceof KeyOrderError));
    assert.ok(true, what);
  }
});

test('bad options are ValidationErrors and create no file', () => {
  const path = newSegmentPath(dir);
  for (const options of [
    {},
    { minSequence: 5, maxSequence: 4 },
    { minSequence: -1, maxSequence: 4 },
    { ...SEQUENCES, blockSize: 32 },
    { ...SEQUENCES, blockSize: 70000 },
    { ...SEQUENCES, multiValue: 'yes' },
    { ...SEQUENCES, compression: true },
    { ...SEQUENCES, expectedKeys: -1 },
    { ...SEQUENCES, expectedKeys: 2 ** 28 + 1 },
    { ...SEQUENCES, expectedKeys: 1.5 },
  ]) {
    assert.throws(() => SegmentBuilder.create(path, options as never), ValidationError, JSON.stringify(options));
  }
  assert.throws(() => SegmentBuilder.create('', SEQUENCES), ValidationError);
  assert.equal(existsSync(path), false);
});

test('building over an existing file fails with EEXIST and leaves that file alone', () => {
  const path = newSegmentPath(dir);
  writeFileSync(path, 'precious');
  assert.throws(
    () => SegmentBuilder.create(path, SEQUENCES),
    (error: unknown) => error instanceof IoError && error.errno === 'EEXIST',
  );
  assert.equal(readFileSync(path, 'utf8'), 'precious');
});

test('abort removes the file; finish and abort end the builder', async () => {
  const aborted = newSegmentPath(dir);
  const builder = SegmentBuilder.create(aborted, SEQUENCES);
  builder.put('a', 'b');
  builder.abort();
  assert.equal(existsSync(aborted), false);
  assert.throws(() => builder.put('b', 'c'), ClosedError);
  await assert.rejects(builder.finish(), ClosedError);

  const finished = newSegmentPath(dir);
  const done = SegmentBuilder.create(finished, SEQUENCES);
  done.put('a', 'b');
  await done.finish();
  assert.throws(() => done.put('b', 'c'), ClosedError);
  assert.throws(() => done.abort(), ClosedError);
  assert.equal(existsSync(finished), true);
});

test('buildSegment takes async iterables and removes the file when the source throws', async () => {
  async function* entries(): AsyncGenerator<SegmentInput> {
    yield { kind: 'put', key: 'a', value: '1' };
    yield { kind: 'put', key: 'b', value: '2' };
  }
  const path = newSegmentPath(dir);
  await buildSegment(path, entries(), SEQUENCES);
  using reader = SegmentReader.open(path);
  assert.equal(reader.get('b'), '2');

  const failing = newSegmentPath(dir);
  async function* broken(): AsyncGenerator<SegmentInput> {
    yield { kind: 'put', key: 'a', value: '1' };
    throw new Error('source failed');
  }
  await assert.rejects(buildSegment(failing, broken(), SEQUENCES), /source failed/);
  assert.equal(existsSync(failing), false);
});

for (const operation of ['write', 'sync', 'syncDirectory'] as const satisfies readonly FaultOperation[]) {
  test(`an I/O error on ${operation} fails the build with IoError and removes the partial file`, async () => {
    const path = newSegmentPath(dir);
    const fs = new FaultInjectingFileSystem(nodeFileSystem, [
      { operation, nth: operation === 'write' ? 3 : 1, code: operation === 'write' ? 'ENOSPC' : 'EIO', partial: true },
    ]);
    const builder = SegmentBuilder.create(path, { ...SEQUENCES, fs, blockSize: 64 });
    let failure: unknown;
    try {
      // Large values so that several writes reach the file before finish.
      for (const entry of sampleEntries(3000)) builder.add(entry.kind === 'put' ? { ...entry, value: 'v'.repeat(2000) } : entry);
      await builder.finish();
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof IoError, `got ${String(failure)}`);
    assert.equal(failure.errno, operation === 'write' ? 'ENOSPC' : 'EIO');
    assert.equal(existsSync(path), false);
    assert.throws(() => builder.put('zzz', 'z'), ClosedError);
  });
}

test('a build larger than the background-sync step fails with IoError at finish when a background fdatasync failed, and leaves no file', async () => {
  const path = newSegmentPath(dir);
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'datasync', nth: 1, code: 'EIO' }]);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, fs });
  const value = new Uint8Array(16 * 1024).fill(3);
  const entries = Math.ceil((SYNC_EVERY_BYTES * 1.1) / value.length);
  for (let i = 0; i < entries; i++) builder.put(`key-${String(i).padStart(6, '0')}`, value);
  assert.equal(fs.callCount('datasync'), 1, 'the sync began while entries were still being added');
  await assert.rejects(builder.finish(), (error) => error instanceof IoError && error.errno === 'EIO');
  assert.equal(existsSync(path), false);
  assert.equal(existsSync(buildPathOf(path)), false);
});

test('a finished segment survives a power loss: the file and its directory entry were fsynced', async () => {
  const crashDir = tempDir('crash');
  for (let seed = 1; seed <= 5; seed++) {
    const fs = new CrashSimFileSystem({ seed });
    const path = newSegmentPath(crashDir);
    const inputs = sampleEntries(400, seed);
    await buildSegment(path, inputs, { ...SEQUENCES, fs, blockSize: 256 });
    assert.deepStrictEqual(fs.unsyncedPaths(), []);
    fs.crash();
    using reader = SegmentReader.open(path, { fs });
    reader.verify();
    assert.equal(reader.stats().entries, inputs.length);
  }
});

test('a build cut off by a power loss before finish leaves no readable segment under the name', async () => {
  const crashDir = tempDir('torn');
  for (let seed = 1; seed <= 8; seed++) {
    const fs = new CrashSimFileSystem({ seed });
    const path = newSegmentPath(crashDir);
    const builder = SegmentBuilder.create(path, { ...SEQUENCES, fs, blockSize: 64 });
    for (const entry of sampleEntries(2000, seed)) builder.add(entry);
    fs.crash();
    if (existsSync(path)) assert.throws(() => SegmentReader.open(path, { fs }), { code: 'SILT_CORRUPTION' });
  }
});

test('a large build streams: memory stays far below the file size', async () => {
  const path = newSegmentPath(dir);
  const value = new Uint8Array(16 * 1024).fill(7);
  const entries = process.env.SOAK === '1' ? 20_000 : 4_000;
  const before = process.memoryUsage();
  let peak = 0;
  const builder = SegmentBuilder.create(path, SEQUENCES);
  for (let i = 0; i < entries; i++) {
    builder.put(`key-${String(i).padStart(8, '0')}`, value);
    if (i % 250 === 0) {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers);
    }
  }
  const result = await builder.finish();
  assert.ok(result.bytes > entries * value.length);
  assert.ok(peak < 16 * 1024 * 1024, `buffers grew by ${peak} bytes while writing a ${result.bytes}-byte file`);
  assert.deepStrictEqual(
    readdirSync(dir).filter((name) => name.endsWith('.tmp')),
    [],
  );
});

test('bytes marked as text come back as strings, so a flush need not decode and re-encode them', async () => {
  const path = newSegmentPath(dir);
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
  await buildSegment(
    path,
    [
      { kind: 'put', key: 'ascii', value: utf8('plain'), valueIsText: true },
      { kind: 'put', key: 'bytes', value: Uint8Array.of(0xe9) },
      { kind: 'put', key: 'utf8', value: utf8('héllo'), valueIsText: true },
    ],
    SEQUENCES,
  );
  const reader = SegmentReader.open(path);
  assert.equal(reader.get('ascii'), 'plain');
  assert.deepEqual(reader.get('bytes'), Uint8Array.of(0xe9));
  assert.equal(reader.get('utf8'), 'héllo');
  reader.close();
});

test('a segment is built under <path>.tmp and takes its own name only once whole and fsynced; an aborted build leaves no file', async () => {
  const dir = tempDir('build-name');
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, SEQUENCES);
  builder.put('a', '1');
  assert.deepEqual(readdirSync(dir), [`${basename(path)}.tmp`], 'only the build file exists while building');
  assert.equal(buildPathOf(path), `${path}.tmp`);
  await builder.finish();
  assert.deepEqual(readdirSync(dir), [basename(path)]);
  using reader = SegmentReader.open(path);
  assert.equal(reader.get('a'), '1');

  const abandoned = SegmentBuilder.create(newSegmentPath(dir), SEQUENCES);
  abandoned.put('b', '2');
  abandoned.abort();
  assert.deepEqual(readdirSync(dir), [basename(path)]);
});

test('a build refuses a path that exists, before writing anything', () => {
  const dir = tempDir('build-exists');
  const path = newSegmentPath(dir);
  writeFileSync(path, 'someone else');
  assert.throws(
    () => SegmentBuilder.create(path, SEQUENCES),
    (error: unknown) => error instanceof IoError && error.errno === 'EEXIST',
  );
  assert.deepEqual(readdirSync(dir), [basename(path)]);
  assert.equal(readFileSync(path, 'utf8'), 'someone else');
});

/** Every put of `entries` reads back from the segment at `path`, and the file verifies. */
function assertHolds(path: string, entries: readonly SegmentInput[]): void {
  const reader = SegmentReader.open(path, { keyEncoding: 'binary' });
  try {
    reader.verify();
    for (const entry of entries) if (entry.kind === 'put') assert.deepEqual(reader.get(entry.key), entry.value);
    assert.equal(reader.get('a key no build wrote'), undefined);
  } finally {
    reader.close();
  }
}

test('expectedKeys is only a hint: with too small, too large or no hint, the same bytes are written', async () => {
  const entries = sampleEntries(3000);
  const unhinted = await buildFile(dir, entries);
  assertHolds(unhinted, entries);
  for (const expectedKeys of [0, 10, 3000, 100_000]) {
    const hinted = await buildFile(dir, entries, { expectedKeys });
    assert.deepEqual(readFileSync(hinted), readFileSync(unhinted), `expectedKeys ${expectedKeys}`);
  }
});

test('builds that follow one another on a thread share its hash-table memory, and each file still verifies', async () => {
  // A larger table first, then a smaller one: the second reuses the first's bytes, which must not leak into it.
  const largeEntries = sampleEntries(5000, 1);
  const smallEntries = sampleEntries(40, 2);
  const large = await buildFile(dir, largeEntries);
  const small = await buildFile(dir, smallEntries);
  assertHolds(large, largeEntries);
  assertHolds(small, smallEntries);
});

test("a build's result names its smallest and largest keys, tombstones included, as copies; none for an empty segment", async () => {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, blockSize: 64 });
  builder.tombstone('a-first');
  for (let i = 0; i < 20; i++) builder.put(`key-${String(i).padStart(2, '0')}`, 'v'.repeat(10));
  builder.tombstone('z-last');
  const { keyRange } = await builder.finish();
  assert.deepEqual(keyRange, { minKey: new Uint8Array(Buffer.from('a-first')), maxKey: new Uint8Array(Buffer.from('z-last')) });
  using reader = SegmentReader.open(path, { keyEncoding: 'binary' });
  assert.deepEqual(new Uint8Array(reader.stats().maxKey!), keyRange!.maxKey, 'the range the file records');

  const empty = SegmentBuilder.create(newSegmentPath(dir), SEQUENCES);
  assert.equal((await empty.finish()).keyRange, undefined);
});
