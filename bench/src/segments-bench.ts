import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { open as openLmdb } from 'lmdb';
import { SeededRandom } from '@silt/fs/internal';
import { SegmentBuilder, SegmentReader } from '@silt/segments';
import { opsPerSecond, rounds, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { checkedGetPass, makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';

/**
 * One segment of 1,000,000 entries (17-byte keys, 100-byte string values,
 * generated in random order and sorted before building), then random point
 * reads of every key in one shuffled order shared by every engine:
 * silt in `memory` mode, in `mmap` mode, in `file` mode with a 16 MiB block cache (the
 * file is ~8x larger), lmdb-js `get` (string encoding, no read-ahead, no
 * object cache: its documented settings for fast random reads of strings)
 * and better-sqlite3 primary-key lookups (WITHOUT ROWID table, prepared
 * statement, `.pluck().get()`). The lookup keys are fresh strings laid out
 * in lookup order (see key-value-dataset.ts). Gets are measured warm (see warmGetRounds);
 * silt's one-time costs after open (reading the file, checking the indexes,
 * verifying blocks on first use) are reported as their own rows. Beside
 * them, `file` mode's ceiling: one 512-byte `pread` of the segment file a
 * get at a random block (the page cache warm), and nothing else: what
 * `file` mode reads for a get that misses its cache once the entry's block
 * is verified, and cannot do without.
 */

const ENTRIES = Number(process.env.SEGMENTS_BENCH_ENTRIES ?? 1_000_000);
const KEY_BYTES = 17;
const VALUE_BYTES = 100;
const FILE_CACHE_BYTES = 16 * 1024 * 1024;
/** silt's default block size. */
const BLOCK_BYTES = 4096;
/** What `file` mode reads of a verified block for a get that misses its cache: the entry's window. */
const ENTRY_READ_BYTES = 512;
const WORKLOAD_GET = `random get, ${ENTRIES.toLocaleString('en-US')} keys`;
const WORKLOAD_BUILD = `build ${ENTRIES.toLocaleString('en-US')} entries (${KEY_BYTES} B keys, ${VALUE_BYTES} B values)`;

/** The shared dataset, plus its pairs sorted by key bytes, which is the order a segment is built in. */
interface Dataset extends KeyValueDataset {
  readonly sortedKeys: readonly string[];
  readonly sortedValues: readonly string[];
}

function makeDataset(count: number): Dataset {
  const data = makeKeyValueDataset({ count, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, batchSize: count, seed: 2026 });
  // ASCII keys: string order is byte order.
  const order = Array.from(data.keys.keys()).sort((a, b) => (data.keys[a]! < data.keys[b]! ? -1 : 1));
  return { ...data, sortedKeys: order.map((i) => data.keys[i]!), sortedValues: order.map((i) => data.values[i]!) };
}

async function buildSilt(path: string, data: Dataset): Promise<number> {
  const builder = SegmentBuilder.create(path, { minSequence: 1, maxSequence: data.sortedKeys.length });
  for (let i = 0; i < data.sortedKeys.length; i++) builder.put(data.sortedKeys[i]!, data.sortedValues[i]!);
  return (await builder.finish()).bytes;
}

async function benchBuild(context: BenchContext, data: Dataset): Promise<{ rows: BenchRow[]; path: string; size: number }> {
  const entryRates: number[] = [];
  const byteRates: number[] = [];
  let path = '';
  let size = 0;
  for (let round = 0; round < context.rounds; round++) {
    path = join(context.scratch('silt-build'), 'bench.seg');
    const start = process.hrtime.bigint();
    size = await buildSilt(path, data);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    entryRates.push(data.sortedKeys.length / seconds);
    byteRates.push(size / 1e6 / seconds);
    context.log(`build round ${round + 1}: ${(seconds * 1000).toFixed(0)} ms, ${size} bytes`);
  }
  const durability = 'fsync file + directory';
  return {
    path,
    size,
    rows: [
      { workload: WORKLOAD_BUILD, engine: 'silt SegmentBuilder', durability, unit: 'entries/s', runs: entryRates },
      { workload: WORKLOAD_BUILD, engine: 'silt SegmentBuilder', durability, unit: 'MB/s (file bytes)', runs: byteRates },
      { workload: WORKLOAD_BUILD, engine: 'silt segment file', durability, unit: 'bytes', runs: [size], lowerIsBetter: true },
    ],
  };
}

/**
 * Opens with `open`, makes one untimed pass over every key (JIT warm-up,
 * first-touch page faults, silt's first-use block verification, filling the
 * file-mode cache), then times `context.rounds` passes on the same handle.
 */
async function warmGetRounds<Handle>(
  context: BenchContext,
  data: Dataset,
  open: () => Handle,
  get: (handle: Handle, key: string) => string | Uint8Array | undefined,
  close: (handle: Handle) => void | Promise<void>,
): Promise<number[]> {
  const handle = open();
  try {
    const pass = checkedGetPass(data, (key) => get(handle, key));
    pass();
    return await rounds(context.rounds, () => opsPerSecond(data.lookups.length, pass));
  } finally {
    await close(handle);
  }
}

async function benchSilt(context: BenchContext, data: Dataset, path: string): Promise<BenchRow[]> {
  const openTimes = await rounds(context.rounds, async () => {
    const start = process.hrtime.bigint();
    const reader = SegmentReader.open(path, { access: 'memory' });
    const milliseconds = Number(process.hrtime.bigint() - start) / 1e6;
    reader.close();
    return milliseconds;
  });
  const firstUse = await rounds(context.rounds, async () => {
    const reader = SegmentReader.open(path, { access: 'memory' });
    const start = process.hrtime.bigint();
    reader.verify();
    const milliseconds = Number(process.hrtime.bigint() - start) / 1e6;
    reader.close();
    return milliseconds;
  });
  const memory = await warmGetRounds(
    context,
    data,
    () => SegmentReader.open(path, { access: 'memory' }),
    (reader, key) => reader.get(key),
    (reader) => reader.close(),
  );
  const mmap = await warmGetRounds(
    context,
    data,
    () => {
      const reader = SegmentReader.open(path, { access: 'mmap' });
      if (reader.access !== 'mmap') throw new Error('mmap mode is unavailable here: @silt/mmap did not build');
      return reader;
    },
    (reader, key) => reader.get(key),
    (reader) => reader.close(),
  );
  const file = await warmGetRounds(
    context,
    data,
    () => SegmentReader.open(path, { access: 'file', cacheBytes: FILE_CACHE_BYTES }),
    (reader, key) => reader.get(key),
    (reader) => reader.close(),
  );
  const preads = await preadCeiling(context, data, path);
  const workload = `open the ${ENTRIES.toLocaleString('en-US')}-entry segment`;
  return [
    {
      workload,
      engine: 'silt open (memory: read file, check indexes)',
      durability: 'read',
      unit: 'ms',
      runs: openTimes,
      lowerIsBetter: true,
    },
    { workload, engine: 'silt verify() (every block, counts, hash)', durability: 'read', unit: 'ms', runs: firstUse, lowerIsBetter: true },
    { workload: WORKLOAD_GET, engine: 'silt (memory)', durability: 'read', unit: 'gets/s', runs: memory, ratioTo: 'lmdb-js' },
    { workload: WORKLOAD_GET, engine: 'silt (mmap)', durability: 'read', unit: 'gets/s', runs: mmap, ratioTo: 'lmdb-js' },
    {
      workload: WORKLOAD_GET,
      engine: 'silt (file, 16 MiB cache)',
      durability: 'read',
      unit: 'gets/s',
      runs: file,
      ratioTo: 'better-sqlite3',
    },
    { workload: WORKLOAD_GET, engine: PREAD_CEILING, durability: 'read', unit: 'gets/s', runs: preads, ratioTo: 'lmdb-js' },
  ];
}

const PREAD_CEILING = `one ${ENTRY_READ_BYTES} B pread a get at a random block, nothing else (file mode's ceiling)`;

/** As many positioned reads as there are lookups, each of an entry's window at a random block of the file: the system calls alone. */
async function preadCeiling(context: BenchContext, data: Dataset, path: string): Promise<number[]> {
  const fd = openSync(path, 'r');
  try {
    const blocks = Math.floor(fstatSync(fd).size / BLOCK_BYTES);
    const random = new SeededRandom(4096);
    const offsets = Float64Array.from(data.lookups, () => Math.floor(random.next() * blocks) * BLOCK_BYTES);
    const window = Buffer.allocUnsafe(ENTRY_READ_BYTES);
    const pass = (): void => {
      for (const offset of offsets)
        if (readSync(fd, window, 0, ENTRY_READ_BYTES, offset) !== ENTRY_READ_BYTES) throw new Error('short read');
    };
    pass();
    return await rounds(context.rounds, () => opsPerSecond(offsets.length, pass));
  } finally {
    closeSync(fd);
  }
}

async function benchLmdb(context: BenchContext, data: Dataset): Promise<BenchRow> {
  const path = join(context.scratch('lmdb'), 'db');
  const options = { path, encoding: 'string', noReadAhead: true, cache: false } as const;
  const writer = openLmdb<string, string>(options);
  await writer.transaction(() => {
    for (let i = 0; i < data.sortedKeys.length; i++) void writer.put(data.sortedKeys[i]!, data.sortedValues[i]!);
  });
  await writer.close();
  const runs = await warmGetRounds(
    context,
    data,
    () => openLmdb<string, string>(options),
    (db, key) => db.get(key),
    (db) => db.close(),
  );
  return { workload: WORKLOAD_GET, engine: 'lmdb-js', durability: 'read', unit: 'gets/s', runs };
}

async function benchSqlite(context: BenchContext, data: Dataset): Promise<BenchRow> {
  const path = join(context.scratch('sqlite'), 'kv.sqlite');
  const writer = new Database(path);
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
  const insert = writer.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
  writer.transaction(() => {
    for (let i = 0; i < data.sortedKeys.length; i++) insert.run(data.sortedKeys[i], data.sortedValues[i]);
  })();
  writer.close();
  const runs = await warmGetRounds(
    context,
    data,
    () => {
      const db = new Database(path, { readonly: true });
      return { db, select: db.prepare<[string], string>('SELECT v FROM kv WHERE k = ?').pluck() };
    },
    ({ select }, key) => select.get(key),
    ({ db }) => void db.close(),
  );
  return { workload: WORKLOAD_GET, engine: 'better-sqlite3', durability: 'read', unit: 'gets/s', runs };
}

export const suite: BenchSuite = {
  name: 'segments',
  async run(context: BenchContext): Promise<BenchRow[]> {
    context.log(`generating ${ENTRIES} entries`);
    const data = makeDataset(ENTRIES);
    const build = await benchBuild(context, data);
    context.log(
      `segment: ${build.size} bytes; file mode cache ${FILE_CACHE_BYTES} bytes (${((100 * FILE_CACHE_BYTES) / build.size).toFixed(0)}% of the file)`,
    );
    const silt = await benchSilt(context, data, build.path);
    context.log('silt gets done');
    const lmdb = await benchLmdb(context, data);
    context.log('lmdb-js gets done');
    const sqlite = await benchSqlite(context, data);
    return [...build.rows, ...silt, lmdb, sqlite];
  },
};
