import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { open as openLmdb } from 'lmdb';
import { nodeFileSystem } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { SegmentBuilder, SegmentReader, type AccessMode } from '@silt/segments';
import { rounds, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { checkedGetPass, getRatesInTurns, makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';

/**
 * One segment of 1,000,000 entries (17-byte keys, 100-byte string values,
 * generated in random order and sorted before building), then random point
 * reads of every key in one shuffled order shared by every engine:
 * silt in `memory` mode, in `mmap` mode, in `file` mode with a 16 MiB block cache (the
 * file is ~8x larger), lmdb-js `get` (string encoding, no read-ahead, no
 * object cache: its documented settings for fast random reads of strings)
 * and better-sqlite3 primary-key lookups (WITHOUT ROWID table, prepared
 * statement, `.pluck().get()`). The lookup keys are fresh strings laid out
 * in lookup order (see key-value-dataset.ts). Gets are measured warm (see
 * warmedGets), every engine open at once and its rounds interleaved with
 * the others' (getRounds); silt's one-time costs after open (reading the
 * file, checking the indexes, verifying blocks on first use) are reported
 * as their own rows. Beside them, two reference rows: one 512-byte
 * positioned read of the segment file a get at a random block (the page
 * cache warm), and nothing else, through `fs.readSync` and through
 * @silt/fs (the read `file` mode makes: @silt/mmap's `pread`, `O_NOATIME`).
 * The second is `file` mode's floor: what it reads for a get that misses
 * its cache once the entry's block is verified, and cannot do without.
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

/** A store open for the timed get passes: one pass over every lookup key, and its close. */
interface GetEngine {
  readonly pass: () => void;
  readonly close: () => void | Promise<void>;
}

/**
 * Opens a store and makes one untimed pass over every key (JIT warm-up,
 * first-touch page faults, silt's first-use block verification, filling the
 * file-mode cache); the timed passes follow, interleaved with the other engines'.
 */
function warmedGets<Handle>(
  data: Dataset,
  handle: Handle,
  get: (handle: Handle, key: string) => string | Uint8Array | undefined,
  close: (handle: Handle) => void | Promise<void>,
): GetEngine {
  const pass = checkedGetPass(data, (key) => get(handle, key));
  pass();
  return { pass, close: () => close(handle) };
}

async function openRounds(context: BenchContext, path: string): Promise<BenchRow[]> {
  const workload = `open the ${ENTRIES.toLocaleString('en-US')}-entry segment`;
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
  ];
}

function siltGets(data: Dataset, path: string, access: AccessMode): GetEngine {
  const reader = SegmentReader.open(path, access === 'file' ? { access, cacheBytes: FILE_CACHE_BYTES } : { access });
  if (reader.access !== access) throw new Error(`${access} mode is unavailable here: @silt/mmap did not build`);
  return warmedGets(
    data,
    reader,
    (opened, key) => opened.get(key),
    (opened) => opened.close(),
  );
}

const ENGINE = {
  memory: 'silt (memory)',
  mmap: 'silt (mmap)',
  file: 'silt (file, 16 MiB cache)',
  readSyncFloor: `one ${ENTRY_READ_BYTES} B fs.readSync a get at a random block, nothing else`,
  siltReadFloor: `one ${ENTRY_READ_BYTES} B read a get through @silt/fs (the addon's pread, O_NOATIME), nothing else: file mode's floor`,
  lmdb: 'lmdb-js',
  sqlite: 'better-sqlite3',
} as const;

/**
 * As many positioned reads as there are lookups, each of an entry's window
 * at a random block of the file: the system calls alone, through `read`.
 */
function positionedReads(data: Dataset, path: string, read: (window: Buffer, offset: number) => number, close: () => void): GetEngine {
  const blocks = Math.floor(statSync(path).size / BLOCK_BYTES);
  const random = new SeededRandom(4096);
  const offsets = Float64Array.from(data.lookups, () => Math.floor(random.next() * blocks) * BLOCK_BYTES);
  const window = Buffer.allocUnsafe(ENTRY_READ_BYTES);
  const pass = (): void => {
    for (const offset of offsets) if (read(window, offset) !== ENTRY_READ_BYTES) throw new Error('short read');
  };
  pass();
  return { pass, close };
}

function readSyncFloor(data: Dataset, path: string): GetEngine {
  const fd = openSync(path, 'r');
  return positionedReads(
    data,
    path,
    (window, offset) => readSync(fd, window, 0, ENTRY_READ_BYTES, offset),
    () => closeSync(fd),
  );
}

function siltReadFloor(data: Dataset, path: string): GetEngine {
  const handle = nodeFileSystem.open(path, 'read');
  return positionedReads(
    data,
    path,
    (window, offset) => handle.read(window, offset),
    () => handle.close(),
  );
}

async function lmdbGets(context: BenchContext, data: Dataset): Promise<GetEngine> {
  const path = join(context.scratch('lmdb'), 'db');
  const options = { path, encoding: 'string', noReadAhead: true, cache: false } as const;
  const writer = openLmdb<string, string>(options);
  await writer.transaction(() => {
    for (let i = 0; i < data.sortedKeys.length; i++) void writer.put(data.sortedKeys[i]!, data.sortedValues[i]!);
  });
  await writer.close();
  return warmedGets(
    data,
    openLmdb<string, string>(options),
    (db, key) => db.get(key),
    (db) => db.close(),
  );
}

function sqliteGets(context: BenchContext, data: Dataset): GetEngine {
  const path = join(context.scratch('sqlite'), 'kv.sqlite');
  const writer = new Database(path);
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
  const insert = writer.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
  writer.transaction(() => {
    for (let i = 0; i < data.sortedKeys.length; i++) insert.run(data.sortedKeys[i], data.sortedValues[i]);
  })();
  writer.close();
  const db = new Database(path, { readonly: true });
  return warmedGets(
    data,
    { db, select: db.prepare<[string], string>('SELECT v FROM kv WHERE k = ?').pluck() },
    ({ select }, key) => select.get(key),
    ({ db: opened }) => void opened.close(),
  );
}

type EngineName = keyof typeof ENGINE;

/** Opens every engine in turn; if one fails, those already open are closed before the error goes on. */
async function openEngines(openers: Record<EngineName, () => GetEngine | Promise<GetEngine>>): Promise<Record<EngineName, GetEngine>> {
  const opened: Partial<Record<EngineName, GetEngine>> = {};
  try {
    for (const name of Object.keys(openers) as EngineName[]) opened[name] = await openers[name]();
  } catch (error) {
    for (const engine of Object.values(opened)) await engine.close();
    throw error;
  }
  return opened as Record<EngineName, GetEngine>;
}

/**
 * Every engine's store open and warmed at once, then `context.rounds` timed
 * passes each, taking turns: load that comes and goes on the shared machine
 * falls on every engine alike, so the ratios hold even when the rates move.
 */
async function getRounds(context: BenchContext, data: Dataset, path: string): Promise<BenchRow[]> {
  const engines = await openEngines({
    memory: () => siltGets(data, path, 'memory'),
    mmap: () => siltGets(data, path, 'mmap'),
    file: () => siltGets(data, path, 'file'),
    readSyncFloor: () => readSyncFloor(data, path),
    siltReadFloor: () => siltReadFloor(data, path),
    lmdb: () => lmdbGets(context, data),
    sqlite: () => sqliteGets(context, data),
  });
  try {
    const passes = Object.fromEntries(Object.entries(engines).map(([name, engine]) => [name, engine.pass])) as Record<
      EngineName,
      () => void
    >;
    const runs = await getRatesInTurns(data, context.rounds, passes);
    const row = (name: EngineName, extra: Partial<BenchRow> = {}): BenchRow => ({
      workload: WORKLOAD_GET,
      engine: ENGINE[name],
      durability: 'read',
      unit: 'gets/s',
      runs: runs[name],
      ...extra,
    });
    return [
      row('memory', { ratioTo: ENGINE.lmdb }),
      row('mmap', { ratioTo: ENGINE.lmdb }),
      row('file', { ratioTo: ENGINE.lmdb }),
      row('readSyncFloor', { ratioTo: ENGINE.lmdb, reference: true }),
      row('siltReadFloor', { ratioTo: ENGINE.lmdb, reference: true }),
      row('lmdb'),
      row('sqlite'),
    ];
  } finally {
    for (const engine of Object.values(engines)) await engine.close();
  }
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
    const opening = await openRounds(context, build.path);
    const gets = await getRounds(context, data, build.path);
    return [...build.rows, ...opening, ...gets];
  },
};
