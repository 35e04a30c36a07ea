import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, test } from 'node:test';
import {
  ClosedError,
  CorruptionError,
  CrashSimFileSystem,
  FaultInjectingFileSystem,
  IoError,
  NodeFileSystem,
  ValidationError,
  nodeFileSystem,
  type FileHandle,
  type OpenMode,
} from '@silt/fs';
import { FOOTER_BYTES, FORMAT_VERSION, HEADER, HEADER_BYTES } from './format.js';
import { writeU32 } from './little-endian.js';
import type { SegmentInput } from './segment-builder.js';
import { ScanOnlyError, UnsupportedVersionError } from './segment-errors.js';
import type { AccessMode } from './segment-options.js';
import { SegmentReader } from './segment-reader.js';
import { buildFile, newSegmentPath, sampleEntries, SEQUENCES } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';

const dir = tempDir('reader');

const fruit: SegmentInput[] = [
  { kind: 'put', key: 'apple', value: 'red' },
  { kind: 'put', key: 'apricot', value: Uint8Array.of(1, 2, 3) },
  { kind: 'tombstone', key: 'avocado' },
  { kind: 'put', key: 'banana', value: 'yellow' },
  { kind: 'put', key: 'band', value: '' },
  { kind: 'put', key: 'bandana', value: 'cloth' },
  { kind: 'tombstone', key: 'bane' },
  { kind: 'put', key: 'cherry', value: 'dark red' },
  { kind: 'put', key: 'été', value: 'summer ☀' },
];

/** Opens `path` in `access` mode; file mode gets a cache of two small blocks, so evictions happen. */
function open(path: string, access: AccessMode): SegmentReader {
  return SegmentReader.open(path, { access, cacheBytes: 1024 });
}

const keysOf = (pairs: Iterable<[string, unknown]>): string[] => [...pairs].map(([key]) => key);

for (const access of ['memory', 'mmap', 'file'] as const) {
  describe(`a segment read in ${access} mode`, () => {
    test('get returns each put value as the type it was given, and undefined for tombstones and absent keys', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.equal(reader.get('apple'), 'red');
      assert.deepStrictEqual(reader.get('apricot'), Uint8Array.of(1, 2, 3));
      assert.equal(reader.get('band'), '');
      assert.equal(reader.get('été'), 'summer ☀');
      assert.equal(reader.get(Buffer.from('cherry')), 'dark red');
      assert.equal(reader.get('avocado'), undefined);
      assert.equal(reader.get('durian'), undefined);
      assert.equal(reader.get(''), undefined);
    });

    test('lookup tells a tombstone ("present, deleted") from an absent key; has is true for puts only', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.deepStrictEqual(reader.lookup('apple'), { kind: 'put', value: 'red' });
      assert.deepStrictEqual(reader.lookup('avocado'), { kind: 'tombstone' });
      assert.equal(reader.lookup('durian'), undefined);
      assert.equal(reader.has('apple'), true);
      assert.equal(reader.has('avocado'), false);
      assert.equal(reader.has('durian'), false);
      assert.deepStrictEqual(reader.getAll('apple'), ['red']);
      assert.deepStrictEqual(reader.getAll('avocado'), []);
    });

    test('openForScan reads in order without the hash index, even a damaged one; point reads and verify are ScanOnlyErrors', async () => {
      const path = await buildFile(dir, fruit, { blockSize: 64 });
      const bytes = readFileSync(path);
      const hashOffset = Number(bytes.readBigUInt64LE(bytes.length - FOOTER_BYTES + 32));
      bytes[hashOffset + 4]! ^= 0xff;
      writeFileSync(path, bytes);
      assert.throws(() => open(path, access), CorruptionError);

      using reader = SegmentReader.openForScan(path, { access, cacheBytes: 1024 });
      assert.deepStrictEqual(keysOf(reader.range()), ['apple', 'apricot', 'banana', 'band', 'bandana', 'cherry', 'été']);
      assert.deepStrictEqual(keysOf(reader.range({ prefix: 'band', reverse: true })), ['bandana', 'band']);
      assert.equal([...reader.entries()].length, fruit.length);
      assert.equal(reader.closestKey('b'), 'banana');
      assert.equal(reader.stats().entries, fruit.length);
      const pointReads = [() => reader.get('apple'), () => reader.has('apple'), () => reader.lookup('apple'), () => reader.getAll('apple')];
      for (const call of [...pointReads, () => reader.verify()]) {
        assert.throws(call, (error) => error instanceof ScanOnlyError && error.code === 'SILT_SCAN_ONLY' && error.file === path);
      }
    });

    test("a returned byte value is the caller's own copy", async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      const value = reader.get('apricot') as Uint8Array;
      value.fill(9);
      assert.deepStrictEqual(reader.get('apricot'), Uint8Array.of(1, 2, 3));
    });

    test('range walks puts in key order with gte/gt/lte/lt, prefix, reverse and limit', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.deepStrictEqual(keysOf(reader.range()), ['apple', 'apricot', 'banana', 'band', 'bandana', 'cherry', 'été']);
      assert.deepStrictEqual(keysOf(reader.range({ gte: 'apricot', lt: 'bandana' })), ['apricot', 'banana', 'band']);
      assert.deepStrictEqual(keysOf(reader.range({ gt: 'apricot', lte: 'bandana' })), ['banana', 'band', 'bandana']);
      assert.deepStrictEqual(keysOf(reader.range({ prefix: 'ban' })), ['banana', 'band', 'bandana']);
      assert.deepStrictEqual(keysOf(reader.range({ prefix: 'band', reverse: true })), ['bandana', 'band']);
      assert.deepStrictEqual(keysOf(reader.range({ reverse: true, limit: 2 })), ['été', 'cherry']);
      assert.deepStrictEqual(keysOf(reader.range({ gte: 'b', prefix: 'a' })), []);
      assert.deepStrictEqual(keysOf(reader.range({ gte: 'z' })), ['été']);
      assert.deepStrictEqual(keysOf(reader.range({ limit: 0 })), []);
      assert.deepStrictEqual([...reader.range({ gte: 'apricot', limit: 1 })], [['apricot', Uint8Array.of(1, 2, 3)]]);
    });

    test('entries includes tombstones, so a merged read above can see deletions', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.deepStrictEqual(
        [...reader.entries({ gte: 'apricot', lt: 'banana' })],
        [
          { key: 'apricot', kind: 'put', value: Uint8Array.of(1, 2, 3) },
          { key: 'avocado', kind: 'tombstone' },
        ],
      );
      assert.deepStrictEqual(
        [...reader.entries({ prefix: 'ban', reverse: true })].map((entry) => `${entry.key}:${entry.kind}`),
        ['bane:tombstone', 'bandana:put', 'band:put', 'banana:put'],
      );
    });

    test('near returns the keys sharing the longest prefix with the query, as keyvi GetNear', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.deepStrictEqual(keysOf(reader.near('bandit')), ['band', 'bandana']);
      assert.deepStrictEqual(keysOf(reader.near('apx')), ['apple', 'apricot']);
      // The tombstone 'avocado' shares 'av', but only puts count.
      assert.deepStrictEqual(keysOf(reader.near('avx')), ['apple', 'apricot']);
      assert.deepStrictEqual(keysOf(reader.near('bandit', { minPrefix: 5 })), []);
      assert.deepStrictEqual(keysOf(reader.near('bandit', { greedy: true })), [
        'band',
        'bandana',
        'banana',
        'apple',
        'apricot',
        'cherry',
        'été',
      ]);
      assert.deepStrictEqual(keysOf(reader.near('bandit', { greedy: true, minPrefix: 3 })), ['band', 'bandana', 'banana']);
      assert.deepStrictEqual(keysOf(reader.near('bandit', { greedy: true, limit: 3 })), ['band', 'bandana', 'banana']);
      assert.deepStrictEqual(keysOf(reader.near('cherry')), ['cherry']);
    });

    test('closestKey is the first put key at or after the given key, as Whoosh closest_key', async () => {
      using reader = open(await buildFile(dir, fruit, { blockSize: 64 }), access);
      assert.equal(reader.closestKey('banana'), 'banana');
      assert.equal(reader.closestKey('bananas'), 'band');
      assert.equal(reader.closestKey('avocado'), 'banana');
      assert.equal(reader.closestKey(''), 'apple');
      assert.equal(reader.closestKey('zzz'), 'été');
      assert.equal(reader.closestKey('été\u0000'), undefined);
    });

    test('stats report entries, tombstones, bytes, key range, sequence range and format version', async () => {
      const path = await buildFile(dir, fruit, { blockSize: 64 });
      using reader = open(path, access);
      const stats = reader.stats();
      assert.deepStrictEqual(
        { ...stats, blocks: undefined },
        {
          formatVersion: FORMAT_VERSION,
          access,
          multiValue: false,
          entries: 9,
          tombstones: 2,
          distinctKeys: 9,
          blocks: undefined,
          blockSize: 64,
          bytes: readFileSync(path).length,
          dataBytes: stats.dataBytes,
          minKey: 'apple',
          maxKey: 'été',
          minSequence: SEQUENCES.minSequence,
          maxSequence: SEQUENCES.maxSequence,
        },
      );
      assert.ok(stats.blocks > 1, 'small blocks: several of them');
    });

    test('an empty segment answers every read with nothing', async () => {
      using reader = open(await buildFile(dir, []), access);
      assert.equal(reader.get('a'), undefined);
      assert.equal(reader.lookup('a'), undefined);
      assert.deepStrictEqual([...reader.range()], []);
      assert.deepStrictEqual([...reader.entries({ reverse: true })], []);
      assert.deepStrictEqual([...reader.near('a', { greedy: true })], []);
      assert.equal(reader.closestKey(''), undefined);
      assert.deepStrictEqual({ entries: reader.stats().entries, minKey: reader.stats().minKey }, { entries: 0, minKey: undefined });
      reader.verify();
    });

    test('keyEncoding binary yields keys as bytes, including keys that are not UTF-8', async () => {
      const inputs: SegmentInput[] = [
        { kind: 'put', key: Uint8Array.of(0x00, 0xff), value: 'a' },
        { kind: 'put', key: Uint8Array.of(0xc3), value: 'b' },
        { kind: 'put', key: Uint8Array.of(0xff, 0xff), value: 'c' },
      ];
      using reader = SegmentReader.open(await buildFile(dir, inputs), { access, keyEncoding: 'binary' });
      assert.deepStrictEqual(
        [...reader.range()],
        [
          [Uint8Array.of(0x00, 0xff), 'a'],
          [Uint8Array.of(0xc3), 'b'],
          [Uint8Array.of(0xff, 0xff), 'c'],
        ],
      );
      assert.deepStrictEqual(keysOf(reader.range({ prefix: Uint8Array.of(0xff) }) as Iterable<[never, unknown]>), [
        Uint8Array.of(0xff, 0xff),
      ]);
      assert.deepStrictEqual(reader.closestKey(Uint8Array.of(0x01)), Uint8Array.of(0xc3));
      assert.deepStrictEqual(reader.stats().maxKey, Uint8Array.of(0xff, 0xff));
    });

    test('string keys are their UTF-8 bytes: surrogate pairs, and lone surrogates as U+FFFD, like Buffer.from', async () => {
      const inputs: SegmentInput[] = [
        { kind: 'put', key: 'a\ud800', value: 'lone' },
        { kind: 'put', key: 'a😀', value: 'pair' },
      ].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))) as SegmentInput[];
      using reader = open(await buildFile(dir, inputs), access);
      assert.equal(reader.get('a😀'), 'pair');
      assert.equal(reader.get(Buffer.from('a😀')), 'pair');
      assert.equal(reader.get('a\ud800'), 'lone');
      assert.equal(reader.get('a\ufffd'), 'lone');
      assert.equal(reader.get('a\udfff'), 'lone');
    });

    test('keys and values at the size limits round-trip', async () => {
      const longKey = 'k'.repeat(65535);
      const bigValue = new Uint8Array(300_000).map((_, i) => i & 0xff);
      using reader = open(
        await buildFile(dir, [
          { kind: 'put', key: longKey, value: bigValue },
          { kind: 'put', key: 'l', value: 'x' },
        ]),
        access,
      );
      assert.deepStrictEqual(reader.get(longKey), bigValue);
      assert.equal(reader.get('k'.repeat(65536)), undefined);
      assert.equal(reader.get('l'), 'x');
      assert.deepStrictEqual(
        keysOf(reader.range({ gte: 'k' })).map((key) => key.length),
        [65535, 1],
      );
    });

    test('iterators stay correct while other reads run between their steps', async () => {
      const inputs = sampleEntries(600);
      using reader = open(await buildFile(dir, inputs, { blockSize: 256 }), access);
      const expected = [...reader.entries()];
      const seen = [];
      const forward = reader.entries();
      const backward = reader.entries({ reverse: true });
      for (let step = 0; ; step++) {
        const next = forward.next();
        if (next.done === true) break;
        seen.push(next.value);
        // Gets and a second iterator pull other blocks through the (tiny) cache meanwhile.
        reader.get(inputs[(step * 37) % inputs.length]!.key);
        backward.next();
      }
      assert.deepStrictEqual(seen, expected);
    });

    test('verify passes on an intact segment', async () => {
      using reader = open(await buildFile(dir, sampleEntries(800), { blockSize: 128 }), access);
      reader.verify();
    });

    test('after close every read throws ClosedError, including a started iterator', async () => {
      const reader = open(await buildFile(dir, sampleEntries(200), { blockSize: 64 }), access);
      const iterator = reader.entries();
      iterator.next();
      reader.close();
      reader.close();
      for (const read of [
        () => reader.get('a'),
        () => reader.has('a'),
        () => reader.lookup('a'),
        () => reader.getAll('a'),
        () => reader.range(),
        () => reader.entries(),
        () => reader.near('a'),
        () => reader.closestKey('a'),
        () => reader.stats(),
        () => reader.verify(),
        () => [...iterator],
      ]) {
        assert.throws(read, ClosedError);
      }
    });

    test('bad arguments are ValidationErrors', async () => {
      using reader = open(await buildFile(dir, fruit), access);
      const bad = [
        () => reader.get(42 as unknown as string),
        () => reader.lookup(null as unknown as string),
        () => reader.range({ gte: 'a', gt: 'b' }),
        () => reader.range({ lte: 'a', lt: 'b' }),
        () => reader.range({ limit: -1 }),
        () => reader.range({ limit: 1.5 }),
        () => reader.range({ reverse: 'yes' } as unknown as { reverse: boolean }),
        () => reader.range({ from: 'a' } as unknown as { gte: string }),
        () => reader.entries({ prefix: 7 } as unknown as { prefix: string }),
        () => reader.near('a', { minPrefix: -1 }),
        () => reader.near('a', { greedy: 1 } as unknown as { greedy: boolean }),
        () => reader.closestKey({} as unknown as string),
      ];
      for (const call of bad) assert.throws(call, ValidationError);
    });
  });
}

test("a lookup whose key filter the caller asked already (a stack's get) does not ask the segment's own filter again", async () => {
  using reader = open(await buildFile(dir, fruit), 'memory');
  const filter = reader.keyFilter;
  assert.ok(filter !== undefined, 'a small segment has a key filter');
  let asked = 0;
  const mayHold = filter.mayHold.bind(filter);
  filter.mayHold = (hash: number): boolean => {
    asked++;
    return mayHold(hash);
  };
  assert.deepStrictEqual(reader.lookup('apple', true), { kind: 'put', value: 'red' });
  assert.deepStrictEqual(reader.lookup('avocado', true), { kind: 'tombstone' });
  assert.equal(reader.lookup('durian', true), undefined);
  assert.equal(asked, 0, 'the filter the caller passed is not asked again');
  assert.deepStrictEqual(reader.lookup('apple'), { kind: 'put', value: 'red' });
  assert.equal(reader.get('durian'), undefined);
  assert.equal(asked, 2, 'a lookup of its own asks the filter');
});

test('open options are validated: unknown options, bad modes and bad cache sizes are ValidationErrors', async () => {
  const path = await buildFile(dir, fruit);
  for (const options of [
    { access: 'disk' },
    { cacheBytes: -1 },
    { cacheBytes: 1.5 },
    { keyEncoding: 'latin1' },
    { cache: 10 },
    { fs: {} },
  ]) {
    assert.throws(() => SegmentReader.open(path, options as never), ValidationError, JSON.stringify(options));
  }
  assert.throws(() => SegmentReader.fromBytes('not bytes' as unknown as Uint8Array), ValidationError);
});

test('memory mode opens from bytes in memory as well as from a file', async () => {
  const bytes = readFileSync(await buildFile(dir, fruit));
  using reader = SegmentReader.fromBytes(new Uint8Array(bytes), { name: 'fruit.seg' });
  assert.equal(reader.get('banana'), 'yellow');
  assert.equal(reader.file, 'fruit.seg');
  assert.equal(reader.access, 'memory');
});

test('a segment of a newer format version is refused with UnsupportedVersionError naming both versions', async () => {
  const bytes = new Uint8Array(readFileSync(await buildFile(dir, fruit)));
  writeU32(bytes, HEADER.version, FORMAT_VERSION + 1);
  writeU32(bytes, HEADER.versionCrc, crc32(bytes.subarray(0, HEADER.versionCrc)));
  const path = newSegmentPath(dir);
  writeFileSync(path, bytes);
  for (const access of ['memory', 'mmap', 'file'] as const) {
    assert.throws(
      () => SegmentReader.open(path, { access }),
      (error: unknown) =>
        error instanceof UnsupportedVersionError &&
        error.code === 'SILT_UNSUPPORTED_VERSION' &&
        error.version === FORMAT_VERSION + 1 &&
        error.supportedVersion === FORMAT_VERSION &&
        error.message.includes(path) &&
        error.message.includes(`version ${FORMAT_VERSION + 1}`) &&
        error.message.includes(`version ${FORMAT_VERSION} only`),
    );
  }
});

test('a file that is not a segment is a CorruptionError naming the file', async () => {
  const path = newSegmentPath(dir);
  writeFileSync(path, 'hello, this is not a segment file at all; it is long enough to have a footer though.'.repeat(3));
  for (const access of ['memory', 'mmap', 'file'] as const) {
    assert.throws(
      () => SegmentReader.open(path, { access }),
      (error: unknown) => error instanceof CorruptionError && error.file === path,
    );
  }
});

test('opening a missing file is an IoError with errno ENOENT', () => {
  for (const access of ['memory', 'mmap', 'file'] as const) {
    assert.throws(() => SegmentReader.open(`${dir}/missing.seg`, { access }), { code: 'SILT_IO', errno: 'ENOENT' });
  }
});

test('an I/O error while file mode reads a block is an IoError, and the reader keeps working afterwards', async () => {
  const inputs = sampleEntries(300);
  const path = await buildFile(dir, inputs, { blockSize: 256 });
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  using reader = SegmentReader.open(path, { access: 'file', fs, cacheBytes: 0 });
  fs.addFault({ operation: 'read', nth: 1, code: 'EIO' });
  assert.throws(
    () => [...reader.entries()],
    (error: unknown) => error instanceof IoError && error.errno === 'EIO',
  );
  assert.equal([...reader.entries()].length, inputs.length);
});

test('file mode keeps its cache within cacheBytes while serving a segment many times larger', async () => {
  const inputs = sampleEntries(3000);
  const path = await buildFile(dir, inputs, { blockSize: 512 });
  const cacheBytes = 8 * 1024;
  using reader = SegmentReader.open(path, { access: 'file', cacheBytes });
  assert.ok(readFileSync(path).length > 20 * cacheBytes);
  const source = (reader as unknown as { source: { cachedBytes: number } }).source;
  let largest = 0;
  for (const input of inputs) {
    assert.deepStrictEqual(reader.lookup(input.key)?.kind, input.kind);
    largest = Math.max(largest, source.cachedBytes);
  }
  assert.ok(largest > 0 && largest <= cacheBytes, `cache held ${largest} bytes`);
});

/** The node file system, recording the length of every read of the files it opens. */
class ReadRecordingFileSystem extends NodeFileSystem {
  readonly reads: number[] = [];

  override open(path: string, mode: OpenMode): FileHandle {
    const handle = super.open(path, mode);
    const read = handle.read.bind(handle);
    const reads = this.reads;
    return Object.assign(handle, {
      read: (target: Uint8Array, position: number): number => {
        reads.push(target.length);
        return read(target, position);
      },
    });
  }
}

describe('file mode keeps the hash index in memory and reads a verified block again entry by entry', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `key:${String((i * 7_919) % 20_000).padStart(6, '0')}`).sort();
  const entries: SegmentInput[] = keys.map((key, i) => ({ kind: 'put', key, value: `v${i}` }));

  test('every key is found and no absent one is, across the wrap at the table end, with a cache far smaller than the file', async () => {
    const path = await buildFile(tempDir('slots'), entries);
    using file = SegmentReader.open(path, { access: 'file', cacheBytes: 64 * 1024 });
    using memory = SegmentReader.open(path, { access: 'memory' });
    for (let pass = 0; pass < 2; pass++) for (const [i, key] of keys.entries()) assert.equal(file.get(key), `v${i}`, key);
    for (let i = 0; i < 5_000; i++) {
      const absent = `absent:${i}`;
      assert.equal(file.get(absent), undefined);
      assert.equal(file.has(absent), memory.has(absent));
    }
    file.verify();
  });

  test('a get reads no hash slot, a whole block the first time, and only its entry once the block has passed and left the cache', async () => {
    const path = await buildFile(tempDir('entry-reads'), entries);
    const fs = new ReadRecordingFileSystem();
    using reader = SegmentReader.open(path, { access: 'file', fs, cacheBytes: 0 });
    const { blockSize } = reader.stats();
    fs.reads.length = 0;
    assert.equal(reader.get('absent'), undefined);
    assert.deepEqual(fs.reads, [], 'an absent key reads nothing');
    assert.equal(reader.get(keys[5_000]!), 'v5000');
    assert.equal(fs.reads.length, 1);
    assert.ok(fs.reads[0]! >= blockSize, `the first read of a block is the whole block (${fs.reads[0]} bytes)`);
    assert.equal(reader.get(keys[15_000]!), 'v15000'); // another block, which takes the place of the first
    fs.reads.length = 0;
    assert.equal(reader.get(keys[5_001]!), 'v5001');
    assert.equal(fs.reads.length, 1);
    assert.ok(fs.reads[0]! < blockSize, `a block read before is read entry by entry (${fs.reads[0]} bytes)`);
  });

  test('an entry larger than one entry read comes back whole from a block that has passed', async () => {
    const big = 'x'.repeat(3_000);
    const inputs: SegmentInput[] = [
      { kind: 'put', key: 'a', value: 'small' },
      { kind: 'put', key: 'b', value: big },
      { kind: 'put', key: 'c', value: Uint8Array.from({ length: 5_000 }, (_, i) => i & 0xff) },
    ];
    const path = await buildFile(tempDir('entry-large'), inputs, { blockSize: 8_192 });
    using reader = SegmentReader.open(path, { access: 'file', cacheBytes: 0 });
    for (let pass = 0; pass < 2; pass++) {
      assert.equal(reader.get('a'), 'small');
      assert.equal(reader.get('b'), big);
      assert.deepEqual(reader.get('c'), inputs[2]!.kind === 'put' ? inputs[2]!.value : undefined);
    }
  });

  test('a block damaged after open is a CorruptionError at its first read, for a reader open before and one opened after', async () => {
    const path = await buildFile(tempDir('block-damaged'), entries);
    using reader = SegmentReader.open(path, { access: 'file', cacheBytes: 0 });
    assert.equal(reader.get(keys[0]!), 'v0');
    const bytes = readFileSync(path);
    const damagedAt = HEADER_BYTES + Math.floor(reader.stats().dataBytes / 2);
    bytes[damagedAt] = bytes[damagedAt]! ^ 0xff; // a block in the middle, which no get has read yet
    writeFileSync(path, bytes);
    const getEveryKey = (segment: SegmentReader): void => keys.forEach((key, i) => assert.equal(segment.get(key), `v${i}`));
    assert.throws(() => getEveryKey(reader), CorruptionError);
    using fresh = SegmentReader.open(path, { access: 'file', cacheBytes: 0 });
    assert.throws(() => getEveryKey(fresh), CorruptionError);
  });
});

test('mmap mode maps the file where the file system can, and opens it in file mode where it cannot', async () => {
  const path = await buildFile(dir, fruit, { blockSize: 64 });
  using mapped = SegmentReader.open(path, { access: 'mmap' });
  assert.equal(mapped.access, 'mmap');
  assert.equal(mapped.stats().access, 'mmap');
  assert.equal(mapped.get('apple'), 'red');
  // The crash-simulating file system rewrites files in place, so it maps nothing.
  using unmapped = SegmentReader.open(path, { access: 'mmap', fs: new CrashSimFileSystem({ seed: 1 }) });
  assert.equal(unmapped.access, 'file');
  assert.equal(unmapped.get('apple'), 'red');
});
