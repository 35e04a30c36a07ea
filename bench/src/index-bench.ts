import { writerStats } from './writer-stats.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb, type Database as LmdbDatabase } from 'lmdb';
import { Index, type IndexOptions } from 'silt';
import { opsPerSecond, percentile, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { checkedGetPass, getRatesInTurns, makeKeyValueDataset, warmGetRate, type KeyValueDataset } from './key-value-dataset.js';

/**
 * The `Index` writer (package silt) beside its peers on the same workloads,
 * each engine in a fresh directory every round:
 *
 * 1. load: random keys (16 B, base64url) with 100 B values, one awaited
 *    batch of 1,000 at a time; silt's `flush()` (segment built, fsynced,
 *    committed) is inside its timing.
 * 2. one awaited set at a time, each fsync'd before it is acknowledged.
 * 3. 20,000 concurrent sets, fired at once, then all awaited.
 * 4. random gets of every loaded key in one shuffled order, after the load,
 *    on the same handle that loaded them: right after `flush()` (the default
 *    policy may then be merging the load's segments, on the other core),
 *    again once the automatic merges are done, and again after
 *    `forceMerge(1)`; and that one segment reopened in 'mmap' mode. Also a
 *    full ordered scan by a freshly opened handle, silt's (memory and mmap)
 *    and lmdb-js's.
 * 4b. the same keys loaded once into 50 segments with merges off, once
 *    into one segment (`forceMerge(1)`), reopened in 'file' mode, and once
 *    into lmdb-js; all three opened and warmed, then their random-get
 *    passes taken in turns.
 * 5. latency of each awaited set in a stream of sets, while the index
 *    flushes every second (the default), with flushes held off, and while
 *    a merge of the loaded keys runs (flushes held off).
 *
 * lmdb-js on Linux defaults to `overlappingSync`: a commit's promise
 * resolves once the transaction is committed and visible, and the fsync
 * follows in the background (`db.flushed`); that is the same promise as
 * silt's 'write' mode, so those rows compare like with like.
 */

const KEYS = Number(process.env.INDEX_BENCH_KEYS ?? 1_000_000);
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const BATCH = 1_000;
const FSYNC_SETS = 2_000;
const CONCURRENT_SETS = 20_000;
const LATENCY_STREAM_MS = 3_500;
/** Segments the loaded keys are flushed into before the merge the latency stream runs beside. */
const MERGE_SEGMENTS = 8;
/** The loaded keys in this many segments, for the many-segments get row: merges off, one flush per slice. */
const MANY_SEGMENTS = 50;
const FILE_CACHE_BYTES = 8 * 1024 * 1024; // silt's default per segment in 'file' mode
/** No flush for the length of the stream: no timer tick, no memtable overflow. */
const NO_FLUSH: IndexOptions = { refreshIntervalMs: 2 ** 31 - 1, memtableBytes: 4096 * 1024 * 1024 };

const count = (n: number): string => n.toLocaleString('en-US');
const WORKLOAD = {
  load: `load ${count(KEYS)} random keys (${KEY_BYTES} B, ${VALUE_BYTES} B values), awaited batches of ${count(BATCH)}`,
  segments: 'segments silt holds right after the load',
  settled: 'segments silt holds once its automatic merges are done',
  get: `random get of the ${count(KEYS)} loaded keys`,
  manySegments: `random get of the ${count(KEYS)} loaded keys, silt holding them in ${MANY_SEGMENTS} segments (merges off)`,
  fileInTurns: `random get of the ${count(KEYS)} loaded keys, silt reopened in 'file' mode, in turns with lmdb-js`,
  scan: `full ordered scan of the ${count(KEYS)} loaded keys, cold: the first pass of a freshly opened handle (the OS page cache warm)`,
  fsyncSets: `${count(FSYNC_SETS)} awaited sets, one at a time, fsync'd`,
  concurrentSets: `${count(CONCURRENT_SETS)} concurrent sets (fire all, await all)`,
  latency: (stat: string) => `set latency ${stat}, 1 awaited set at a time for ${LATENCY_STREAM_MS / 1000} s`,
};

const SILT_WRITE = 'write (OS cache, bg fdatasync 200 ms)';
const DURABILITY = {
  siltWrite: SILT_WRITE,
  siltLoad: `${SILT_WRITE}; flush() (segment fsynced) timed`,
  siltFsync: 'fsync (fdatasync per group commit)',
  lmdbLoad: 'lmdb default (ack on commit, fsync follows); `flushed` awaited at the end',
  lmdb: 'lmdb default (ack on commit, fsync follows)',
  classic: 'classic-level sync:false (OS cache)',
  sqlite: 'WAL + synchronous=FULL (fsync per commit)',
  read: 'read',
} as const;

const ENGINE = {
  siltLoad: 'silt mset + flush() (stricter: also in an fsynced segment)',
  siltMsetOnly: 'silt mset (like for like: acknowledged in the log, as batch() is)',
  classic: 'classic-level batch()',
  lmdbLoad: 'lmdb-js transaction + putSync',
  siltMemory: 'silt (memory, right after flush(), the automatic merge running)',
  siltFile: `silt (file, ${FILE_CACHE_BYTES / 1024 / 1024} MiB cache/segment, 1 segment after forceMerge(1))`,
  siltMmap: 'silt (mmap: the page cache, shared; 1 segment after forceMerge(1))',
  siltManySegments: `silt (memory, ${MANY_SEGMENTS} segments)`,
  lmdbScan: 'lmdb-js getRange()',
  siltScan: 'silt range() (memory, 1 segment after forceMerge(1))',
  siltMmapScan: 'silt range() (mmap, 1 segment after forceMerge(1))',
  siltMerged: 'silt (memory, once the automatic merges are done: the segments row says how many)',
  siltCompacted: 'silt (memory, 1 segment after forceMerge(1))',
  lmdbGet: 'lmdb-js get',
  siltSet: 'silt set',
  siltSetFsyncMode: 'silt set (fsync mode)',
  sqlite: 'better-sqlite3 INSERT OR REPLACE, autocommit',
  lmdbPut: 'lmdb-js put (async)',
  flushing: 'silt (flush every 1 s: default)',
  idle: 'silt (no flushes)',
  merging: `silt (no flushes, merging ${MERGE_SEGMENTS} segments of ${count(KEYS / MERGE_SEGMENTS)} keys)`,
} as const;

const seconds = (): number => performance.now() / 1000;

/** Opens, runs `body`, closes; refuses to measure an access mode other than the one asked for (mmap falls back to file). */
async function withIndex<T>(directory: string, options: IndexOptions, body: (index: Index) => Promise<T>): Promise<T> {
  const index = await Index.open(directory, options);
  try {
    const asked = options.accessMode;
    if (asked !== undefined && index.stats().accessMode !== asked)
      throw new Error(`${asked} mode is unavailable here (did @silt/mmap build?)`);
    return await body(index);
  } finally {
    await index.close();
  }
}

async function withLmdb<T>(directory: string, body: (db: LmdbDatabase<string, string>) => Promise<T>): Promise<T> {
  // String values, no object cache, no read-ahead: lmdb-js's own advice for fast random reads
  // (noReadAhead is a documented option its typings leave out).
  const options = { path: join(directory, 'db'), encoding: 'string', noReadAhead: true, cache: false } as const;
  const db = openLmdb<string, string>(options);
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

// ---- 1 + 4: load, then random gets of what was loaded ----

interface SiltLoadRound {
  readonly rate: number;
  readonly msetOnlyRate: number;
  readonly segments: number;
  readonly getRate: number;
  readonly mergedGetRate: number;
  readonly settledSegments: number;
  readonly compactedGetRate: number;
  readonly mmapGetRate: number;
  readonly scanRate: number;
  readonly mmapScanRate: number;
}

const MERGES_OFF: IndexOptions = { ...NO_FLUSH, autoMerge: false, mergePolicy: { segmentCap: 4 * MANY_SEGMENTS } };

/** Entries a full ordered scan of a freshly opened index hands over per second: its first pass, nothing warmed. */
async function coldScanRate(directory: string, options: IndexOptions): Promise<number> {
  return withIndex(directory, options, async (index) => {
    let entries = 0;
    const rate = await opsPerSecond(KEYS, () => {
      for (const [key, value] of index.range()) entries += key.length > 0 && value.length > 0 ? 1 : 0;
    });
    if (entries !== KEYS) throw new Error(`scanned ${entries} entries, expected ${KEYS}`);
    return rate;
  });
}

async function siltLoad(context: BenchContext, data: KeyValueDataset): Promise<SiltLoadRound> {
  const directory = context.scratch('silt-load');
  const loaded = await withIndex(directory, {}, async (index) => {
    const start = seconds();
    for (const batch of data.pairBatches) await index.mset(batch);
    const written = seconds();
    await index.flush();
    const flushed = seconds();
    return {
      rate: KEYS / (flushed - start),
      msetOnlyRate: KEYS / (written - start),
      segments: index.stats().segments.length,
      getRate: await warmGetRate(data, (key) => index.get(key)),
      mergedGetRate: await index.mergesIdle().then(() => warmGetRate(data, (key) => index.get(key))),
      settledSegments: index.stats().segments.length,
      // The reopened rows below read this one segment: what a bulk load followed by forceMerge(1) serves.
      compactedGetRate: await index.forceMerge(1).then(() => warmGetRate(data, (key) => index.get(key))),
    };
  });
  const mmapGetRate = await withIndex(directory, { accessMode: 'mmap' }, (index) => warmGetRate(data, (key) => index.get(key)));
  const scanRate = await coldScanRate(directory, {});
  const mmapScanRate = await coldScanRate(directory, { accessMode: 'mmap' });
  return { ...loaded, mmapGetRate, scanRate, mmapScanRate };
}

/** Every loaded pair into lmdb-js, one transaction a batch, then its fsync awaited. */
async function lmdbPut(db: LmdbDatabase<string, string>, data: KeyValueDataset): Promise<void> {
  for (const batch of data.pairBatches) {
    await db.transaction(() => {
      for (const [key, value] of batch) db.putSync(key, value);
    });
  }
  await db.flushed;
}

async function lmdbLoad(context: BenchContext, data: KeyValueDataset): Promise<{ rate: number; getRate: number; scanRate: number }> {
  const directory = context.scratch('lmdb-load');
  const loaded = await withLmdb(directory, async (db) => {
    const rate = await opsPerSecond(KEYS, () => lmdbPut(db, data));
    return { rate, getRate: await warmGetRate(data, (key) => db.get(key)) };
  });
  const scanRate = await withLmdb(directory, async (db) => {
    let entries = 0;
    const rate = await opsPerSecond(KEYS, () => {
      for (const { key, value } of db.getRange()) entries += key.length > 0 && value.length > 0 ? 1 : 0;
    });
    if (entries !== KEYS) throw new Error(`lmdb-js scanned ${entries} entries, expected ${KEYS}`);
    return rate;
  });
  return { ...loaded, scanRate };
}

type LevelBatch = Array<{ type: 'put'; key: string; value: string }>;

async function classicLoad(context: BenchContext, batches: readonly LevelBatch[]): Promise<number> {
  const db = new ClassicLevel<string, string>(join(context.scratch('classic-level'), 'db'));
  await db.open();
  try {
    return await opsPerSecond(KEYS, async () => {
      for (const batch of batches) await db.batch(batch);
    });
  } finally {
    await db.close();
  }
}

async function loadAndGetRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const levelBatches: LevelBatch[] = data.pairBatches.map((batch) => batch.map(([key, value]) => ({ type: 'put', key, value })));
  const runs = await interleavedRounds(context.rounds, {
    silt: async () => {
      const round = await siltLoad(context, data);
      context.log(`silt load: ${round.segments} segments after flush(), ${round.settledSegments} once merges settled`);
      return round;
    },
    classic: () => classicLoad(context, levelBatches),
    lmdb: () => lmdbLoad(context, data),
  });
  const { silt, lmdb } = runs;
  const load = WORKLOAD.load;
  const keysPerSecond = { unit: 'keys/s', ratioTo: ENGINE.classic };
  const getsPerSecond = { unit: 'gets/s', ratioTo: ENGINE.lmdbGet };
  return [
    { workload: load, engine: ENGINE.classic, durability: DURABILITY.classic, unit: 'keys/s', runs: runs.classic },
    { workload: load, engine: ENGINE.siltLoad, durability: DURABILITY.siltLoad, runs: silt.map((r) => r.rate), ...keysPerSecond },
    {
      workload: load,
      engine: ENGINE.siltMsetOnly,
      durability: DURABILITY.siltWrite,
      runs: silt.map((r) => r.msetOnlyRate),
      ...keysPerSecond,
    },
    { workload: load, engine: ENGINE.lmdbLoad, durability: DURABILITY.lmdbLoad, runs: lmdb.map((r) => r.rate), ...keysPerSecond },
    {
      workload: WORKLOAD.segments,
      engine: 'silt',
      durability: DURABILITY.read,
      unit: 'segments',
      runs: silt.map((r) => r.segments),
      lowerIsBetter: true,
    },
    {
      workload: WORKLOAD.settled,
      engine: 'silt',
      durability: DURABILITY.read,
      unit: 'segments',
      runs: silt.map((r) => r.settledSegments),
      lowerIsBetter: true,
    },
    { workload: WORKLOAD.get, engine: ENGINE.lmdbGet, durability: DURABILITY.read, unit: 'gets/s', runs: lmdb.map((r) => r.getRate) },
    { workload: WORKLOAD.get, engine: ENGINE.siltMemory, durability: DURABILITY.read, runs: silt.map((r) => r.getRate), ...getsPerSecond },
    {
      workload: WORKLOAD.get,
      engine: ENGINE.siltMerged,
      durability: DURABILITY.read,
      runs: silt.map((r) => r.mergedGetRate),
      ...getsPerSecond,
    },
    {
      workload: WORKLOAD.get,
      engine: ENGINE.siltCompacted,
      durability: DURABILITY.read,
      runs: silt.map((r) => r.compactedGetRate),
      ...getsPerSecond,
    },
    {
      workload: WORKLOAD.get,
      engine: ENGINE.siltMmap,
      durability: DURABILITY.read,
      runs: silt.map((r) => r.mmapGetRate),
      ...getsPerSecond,
    },
    { workload: WORKLOAD.scan, engine: ENGINE.lmdbScan, durability: DURABILITY.read, unit: 'entries/s', runs: lmdb.map((r) => r.scanRate) },
    {
      workload: WORKLOAD.scan,
      engine: ENGINE.siltScan,
      durability: DURABILITY.read,
      unit: 'entries/s',
      runs: silt.map((r) => r.scanRate),
      ratioTo: ENGINE.lmdbScan,
    },
    {
      workload: WORKLOAD.scan,
      engine: ENGINE.siltMmapScan,
      durability: DURABILITY.read,
      unit: 'entries/s',
      runs: silt.map((r) => r.mmapScanRate),
      ratioTo: ENGINE.lmdbScan,
    },
  ];
}

// ---- 4b: gets in turns with lmdb-js: 'file' mode, and many segments ----

/** The loaded keys in MANY_SEGMENTS segments of a fresh directory: merges off, one flush per slice. */
async function loadManySegments(context: BenchContext, data: KeyValueDataset): Promise<string> {
  const directory = context.scratch('silt-many-segments');
  const perSegment = Math.ceil(data.pairBatches.length / MANY_SEGMENTS);
  await withIndex(directory, MERGES_OFF, async (index) => {
    for (let first = 0; first < data.pairBatches.length; first += perSegment) {
      for (const batch of data.pairBatches.slice(first, first + perSegment)) await index.mset(batch);
      await index.flush();
    }
  });
  return directory;
}

/** The loaded keys in one segment of a fresh directory, as `forceMerge(1)` leaves a bulk load. */
async function loadOneSegment(context: BenchContext, data: KeyValueDataset): Promise<string> {
  const directory = context.scratch('silt-one-segment');
  await withIndex(directory, {}, async (index) => {
    for (const batch of data.pairBatches) await index.mset(batch);
    await index.flush();
    await index.forceMerge(1);
  });
  return directory;
}

/** Opens the index at `directory` and checks it holds `segments` segments before `body` reads it. */
function withSegments<T>(directory: string, options: IndexOptions, segments: number, body: (index: Index) => Promise<T>): Promise<T> {
  return withIndex(directory, options, (index) => {
    const held = index.stats().segments.length;
    if (held !== segments) throw new Error(`the index at ${directory} holds ${held} segments, not ${segments}`);
    return body(index);
  });
}

/**
 * Random gets of silt in 'file' mode (the one segment, reopened) and over
 * MANY_SEGMENTS segments, beside lmdb-js's over the same keys: all open and
 * warmed at once, then their timed passes in turns, so the load of the
 * shared machine falls on them alike. Measured apart (silt's passes in its
 * load round, lmdb-js's after its own load, minutes away), these ratios
 * followed the machine's minute: 0.89–1.13× over six runs for 50 segments,
 * 0.69–0.94× in four for 'file' mode.
 */
async function turnTakingGetRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const manyDirectory = await loadManySegments(context, data);
  const oneDirectory = await loadOneSegment(context, data);
  const lmdbDirectory = context.scratch('lmdb-gets');
  await withLmdb(lmdbDirectory, (db) => lmdbPut(db, data));
  const fileMode: IndexOptions = { accessMode: 'file', cacheBytes: FILE_CACHE_BYTES };
  return withSegments(manyDirectory, MERGES_OFF, MANY_SEGMENTS, (many) =>
    withSegments(oneDirectory, fileMode, 1, (file) =>
      withLmdb(lmdbDirectory, async (db) => {
        const passes = {
          lmdb: checkedGetPass(data, (key) => db.get(key)),
          many: checkedGetPass(data, (key) => many.get(key)),
          file: checkedGetPass(data, (key) => file.get(key)),
        };
        for (const pass of Object.values(passes)) pass();
        const runs = await getRatesInTurns(data, context.rounds, passes);
        const common = { durability: DURABILITY.read, unit: 'gets/s' } as const;
        const lmdb = { ...common, engine: ENGINE.lmdbGet, runs: runs.lmdb };
        return [
          { ...lmdb, workload: WORKLOAD.fileInTurns },
          { ...common, workload: WORKLOAD.fileInTurns, engine: ENGINE.siltFile, runs: runs.file, ratioTo: ENGINE.lmdbGet },
          { ...lmdb, workload: WORKLOAD.manySegments },
          { ...common, workload: WORKLOAD.manySegments, engine: ENGINE.siltManySegments, runs: runs.many, ratioTo: ENGINE.lmdbGet },
        ];
      }),
    ),
  );
}

// ---- 2: one durable set at a time ----

function siltAwaitedSets(context: BenchContext, data: KeyValueDataset, sets: number, options: IndexOptions): Promise<number> {
  return withIndex(context.scratch('silt-sets'), options, (index) =>
    opsPerSecond(sets, async () => {
      for (let i = 0; i < sets; i++) await index.set(data.keys[i]!, data.values[i]!);
    }),
  );
}

async function sqliteAwaitedSets(context: BenchContext, data: KeyValueDataset, sets: number): Promise<number> {
  const db = new Database(join(context.scratch('sqlite'), 'kv.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
    const upsert = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    return await opsPerSecond(sets, () => {
      for (let i = 0; i < sets; i++) upsert.run(data.keys[i], data.values[i]);
    });
  } finally {
    db.close();
  }
}

async function fsyncSetRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const workload = WORKLOAD.fsyncSets;
  const { sqlite, silt } = await interleavedRounds(context.rounds, {
    sqlite: () => sqliteAwaitedSets(context, data, FSYNC_SETS),
    silt: () => siltAwaitedSets(context, data, FSYNC_SETS, { durability: 'fsync' }),
  });
  return [
    { workload, engine: ENGINE.sqlite, durability: DURABILITY.sqlite, unit: 'sets/s', runs: sqlite },
    { workload, engine: ENGINE.siltSet, durability: DURABILITY.siltFsync, unit: 'sets/s', runs: silt, ratioTo: ENGINE.sqlite },
  ];
}

// ---- 3: many sets in flight ----

function fireAll(data: KeyValueDataset, sets: number, put: (key: string, value: string) => Promise<unknown>): Promise<unknown[]> {
  const pending = new Array<Promise<unknown>>(sets);
  for (let i = 0; i < sets; i++) pending[i] = put(data.keys[i]!, data.values[i]!);
  return Promise.all(pending);
}

function siltConcurrentSets(context: BenchContext, data: KeyValueDataset, options: IndexOptions): Promise<number> {
  return withIndex(context.scratch('silt-concurrent'), options, (index) =>
    opsPerSecond(CONCURRENT_SETS, () => fireAll(data, CONCURRENT_SETS, (key, value) => index.set(key, value)).then(() => undefined)),
  );
}

function lmdbConcurrentPuts(context: BenchContext, data: KeyValueDataset): Promise<number> {
  return withLmdb(context.scratch('lmdb-concurrent'), (db) =>
    opsPerSecond(CONCURRENT_SETS, () => fireAll(data, CONCURRENT_SETS, (key, value) => db.put(key, value)).then(() => undefined)),
  );
}

async function concurrentSetRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const workload = WORKLOAD.concurrentSets;
  const { lmdb, silt, siltFsync } = await interleavedRounds(context.rounds, {
    lmdb: () => lmdbConcurrentPuts(context, data),
    silt: () => siltConcurrentSets(context, data, {}),
    siltFsync: () => siltConcurrentSets(context, data, { durability: 'fsync' }),
  });
  return [
    { workload, engine: ENGINE.lmdbPut, durability: DURABILITY.lmdb, unit: 'sets/s', runs: lmdb },
    { workload, engine: ENGINE.siltSet, durability: DURABILITY.siltWrite, unit: 'sets/s', runs: silt, ratioTo: ENGINE.lmdbPut },
    {
      workload,
      engine: ENGINE.siltSetFsyncMode,
      durability: DURABILITY.siltFsync,
      unit: 'sets/s',
      runs: siltFsync,
      ratioTo: ENGINE.lmdbPut,
    },
  ];
}

// ---- 5: set latency with and without flushes ----

const LATENCY_STATS = [
  { name: 'p50', percent: 50 },
  { name: 'p99', percent: 99 },
  { name: 'p99.9', percent: 99.9 },
] as const;

/** Microseconds each awaited set took, one after another for `LATENCY_STREAM_MS`. */
async function setLatencies(context: BenchContext, data: KeyValueDataset, options: IndexOptions): Promise<number[]> {
  return withIndex(context.scratch('silt-latency'), options, async (index) => {
    const flushesBefore = writerStats(index).flushes;
    const latencies: number[] = [];
    const deadline = performance.now() + LATENCY_STREAM_MS;
    for (let i = 0; performance.now() < deadline; i++) {
      const start = performance.now();
      await index.set(data.keys[i % KEYS]!, data.values[i % KEYS]!);
      latencies.push((performance.now() - start) * 1000);
    }
    const flushes = writerStats(index).flushes - flushesBefore;
    context.log(
      `latency stream: ${latencies.length} sets, ${flushes} flushes, max ${latencies.reduce((a, b) => Math.max(a, b), 0).toFixed(0)} µs`,
    );
    return latencies;
  });
}

/**
 * Set latencies while a merge runs: the loaded keys go into MERGE_SEGMENTS
 * segments, then `forceMerge(1)` starts, and awaited sets stream until it
 * is committed and swapped in (at most LATENCY_STREAM_MS).
 */
async function setLatenciesWhileMerging(context: BenchContext, data: KeyValueDataset): Promise<number[]> {
  return withIndex(context.scratch('silt-merge-latency'), { ...NO_FLUSH, autoMerge: false }, async (index) => {
    const perSegment = Math.ceil(data.pairBatches.length / MERGE_SEGMENTS);
    for (let segment = 0; segment < MERGE_SEGMENTS; segment++) {
      for (const batch of data.pairBatches.slice(segment * perSegment, (segment + 1) * perSegment)) await index.mset(batch);
      await index.flush();
    }
    let merged = false;
    const started = performance.now();
    const merging = index.forceMerge(1).then(() => (merged = true));
    const latencies: number[] = [];
    const deadline = started + LATENCY_STREAM_MS;
    for (let i = 0; !merged && performance.now() < deadline; i++) {
      const start = performance.now();
      await index.set(data.keys[i % KEYS]!, data.values[i % KEYS]!);
      latencies.push((performance.now() - start) * 1000);
    }
    const streamMs = performance.now() - started;
    await merging;
    context.log(
      `merge latency stream: ${latencies.length} sets in ${streamMs.toFixed(0)} ms; merge took ${(performance.now() - started).toFixed(0)} ms`,
    );
    return latencies;
  });
}

async function latencyRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const { flushing, idle, merging } = await interleavedRounds(context.rounds, {
    flushing: () => setLatencies(context, data, {}),
    idle: () => setLatencies(context, data, NO_FLUSH),
    merging: () => setLatenciesWhileMerging(context, data),
  });
  return LATENCY_STATS.flatMap(({ name, percent }): BenchRow[] => {
    const workload = WORKLOAD.latency(name);
    const common = { workload, durability: DURABILITY.siltWrite, unit: 'µs', lowerIsBetter: true };
    return [
      { ...common, engine: ENGINE.idle, runs: idle.map((round) => percentile(round, percent)) },
      { ...common, engine: ENGINE.flushing, runs: flushing.map((round) => percentile(round, percent)), ratioTo: ENGINE.idle },
      { ...common, engine: ENGINE.merging, runs: merging.map((round) => percentile(round, percent)), ratioTo: ENGINE.idle },
    ];
  });
}

export const suite: BenchSuite = {
  name: 'index',
  async run(context: BenchContext): Promise<BenchRow[]> {
    context.log(`generating ${KEYS} keys`);
    const data = makeKeyValueDataset({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, batchSize: BATCH, seed: 2026 });
    const rows: BenchRow[] = [];
    for (const [name, workload] of [
      ['load + gets', loadAndGetRows],
      ['gets in turns with lmdb-js', turnTakingGetRows],
      ['fsync sets', fsyncSetRows],
      ['concurrent sets', concurrentSetRows],
      ['set latency', latencyRows],
    ] as const) {
      context.log(name);
      rows.push(...(await workload(context, data)));
    }
    return rows;
  },
};
