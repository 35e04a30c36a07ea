import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { open as openLmdb } from 'lmdb';
import { Index } from 'silt';
import { percentile, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { makeKeyValueDataset, type DatasetShape, type KeyValueDataset } from './key-value-dataset.js';
import { rssKey, rssValue, visibilityKey, wallClockMs, type ReaderJob, type ReaderResult } from './reader-bench-shared.js';

/**
 * ReadOnlyIndex in another process than the writer (a forked
 * reader-bench-child.js), on three questions:
 *
 * 1. visibility latency: from `set` resolving in the writer (no `flush()`:
 *    the writer's own refresh timer flushes) to `get` returning the value in
 *    the reader process, over 1,000 writes, one every 5 ms, with the default
 *    refreshIntervalMs (1000) and with 50;
 * 2. random gets in the reader process, in each access mode, beside lmdb-js
 *    reading, in another process, an env the parent wrote;
 * 3. resident memory of a reader process that opened an index of 1M or 4M
 *    keys (force-merged to one segment) and read every key once, in each
 *    access mode: its RSS, the part of it that is its own (RssAnon: not
 *    the page cache's), and the proportional share (Pss) summed over 4
 *    such processes reading together, which counts a page they share once.
 */

const CHILD = fileURLToPath(new URL('./reader-bench-child.js', import.meta.url));
const VISIBILITY_WRITES = 1_000;
const WRITE_SPACING_MS = 5;
const GET_KEYS = Number(process.env.READER_BENCH_KEYS ?? 1_000_000);
const RSS_SIZES = (process.env.READER_BENCH_RSS_KEYS ?? '1000000,4000000').split(',').map(Number);
const FILE_CACHE_BYTES = 8 * 1024 * 1024; // the reader's default per segment in 'file' mode
const READERS_TOGETHER = 4;
const ACCESS_MODES = ['memory', 'mmap', 'file'] as const;
const SHAPE: DatasetShape = { count: GET_KEYS, keyBytes: 16, valueBytes: 100, batchSize: 1_000, seed: 11 };
const LOAD_BATCH = 1_000;

const count = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): number => bytes / 1024 / 1024;

/** Runs one job in a reader process; `started` runs once it says it is ready (jobs that say so). */
async function inReader(job: ReaderJob, started?: () => Promise<void>): Promise<ReaderResult> {
  const child = fork(CHILD, [JSON.stringify(job)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const results: ReaderResult[] = [];
  let readyRun: Promise<void> | undefined;
  child.on('message', (result: ReaderResult) => {
    if (result.kind === 'ready') readyRun = started?.();
    else results.push(result);
  });
  const [code] = (await exited) as [number | null];
  await readyRun;
  if (code !== 0 || results.length !== 1) throw new Error(`reader process (${job.kind}) exited with ${code} and ${results.length} results`);
  return results[0]!;
}

// ---- 1: visibility latency ----

async function visibilityRound(context: BenchContext, refreshIntervalMs: number): Promise<{ p50: number; p99: number }> {
  const dir = join(context.scratch(`visibility-${refreshIntervalMs}`), 'idx');
  const index = await Index.open(dir, { refreshIntervalMs });
  const ackedAt: number[] = [];
  try {
    const result = await inReader({ kind: 'visibility', dir, count: VISIBILITY_WRITES }, async () => {
      for (let i = 0; i < VISIBILITY_WRITES; i++) {
        await index.set(visibilityKey(i), `value ${i}`);
        ackedAt.push(wallClockMs());
        await sleep(WRITE_SPACING_MS);
      }
    });
    if (result.kind !== 'visibility') throw new Error(`unexpected ${result.kind}`);
    const latencies = result.seenAt.map((seen, i) => seen - ackedAt[i]!);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await index.close();
  }
}

async function visibilityRows(context: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const refreshIntervalMs of [1000, 50]) {
    const rounds: Array<{ p50: number; p99: number }> = [];
    for (let round = 0; round < context.rounds; round++) rounds.push(await visibilityRound(context, refreshIntervalMs));
    context.log(`visibility, refreshIntervalMs ${refreshIntervalMs}: ${JSON.stringify(rounds)}`);
    const engine = `silt writer → ReadOnlyIndex in another process (refreshIntervalMs ${refreshIntervalMs}${refreshIntervalMs === 1000 ? ', default' : ''})`;
    for (const stat of ['p50', 'p99'] as const) {
      rows.push({
        workload: `visibility latency ${stat}: set resolved → get returns it elsewhere, ${count(VISIBILITY_WRITES)} writes ${WRITE_SPACING_MS} ms apart`,
        engine,
        durability: 'write (default)',
        unit: 'ms',
        runs: rounds.map((r) => r[stat]),
        lowerIsBetter: true,
      });
    }
  }
  return rows;
}

// ---- 2: gets in another process ----

/** Loads the pairs with awaited msets and a flush, lets the default policy's merges finish; `mergeTo` then force-merges. */
async function loadSilt(dir: string, batches: Iterable<ReadonlyArray<readonly [string, string]>>, mergeTo?: number): Promise<number> {
  const index = await Index.open(dir);
  try {
    for (const batch of batches) await index.mset(batch);
    await index.flush();
    // Settled, so the segment count the reads see does not depend on when close aborted a merge.
    await index.mergesIdle();
    if (mergeTo !== undefined) await index.forceMerge(mergeTo);
    return index.stats().segments.length;
  } finally {
    await index.close();
  }
}

async function loadLmdb(path: string, data: KeyValueDataset): Promise<void> {
  const db = openLmdb<string, string>({ path, encoding: 'string' });
  for (const batch of data.pairBatches) {
    await db.transaction(() => {
      for (const [key, value] of batch) db.putSync(key, value);
    });
  }
  await db.flushed;
  await db.close();
}

async function getRows(context: BenchContext): Promise<BenchRow[]> {
  const data = makeKeyValueDataset(SHAPE);
  const siltDir = join(context.scratch('gets-silt'), 'idx');
  const lmdbPath = join(context.scratch('gets-lmdb'), 'db');
  const segments = await loadSilt(siltDir, data.pairBatches);
  await loadLmdb(lmdbPath, data);
  context.log(`gets: silt index of ${segments} segments`);
  const result = await inReader({
    kind: 'gets',
    siltDir,
    lmdbPath,
    keys: SHAPE.count,
    keyBytes: SHAPE.keyBytes,
    valueBytes: SHAPE.valueBytes,
    seed: SHAPE.seed,
    rounds: context.rounds,
    cacheBytes: FILE_CACHE_BYTES,
  });
  if (result.kind !== 'gets') throw new Error(`unexpected ${result.kind}`);
  if (result.siltMmapAccess !== 'mmap') throw new Error('mmap mode is unavailable here (did @silt/mmap build?)');
  const workload = `random get of ${count(SHAPE.count)} keys (${SHAPE.keyBytes} B, ${SHAPE.valueBytes} B values) in a reader process; the writer process wrote them`;
  const lmdbEngine = 'lmdb-js get (readOnly env)';
  return [
    { workload, engine: lmdbEngine, durability: 'read', unit: 'gets/s', runs: result.lmdb },
    {
      workload,
      engine: `silt ReadOnlyIndex (memory, ${segments} segments)`,
      durability: 'read',
      unit: 'gets/s',
      runs: result.siltMemory,
      ratioTo: lmdbEngine,
    },
    {
      workload,
      engine: `silt ReadOnlyIndex (mmap, ${segments} segments)`,
      durability: 'read',
      unit: 'gets/s',
      runs: result.siltMmap,
      ratioTo: lmdbEngine,
    },
    {
      workload,
      engine: `silt ReadOnlyIndex (file, ${mib(FILE_CACHE_BYTES)} MiB cache/segment, ${segments} segments)`,
      durability: 'read',
      unit: 'gets/s',
      runs: result.siltFile,
      ratioTo: lmdbEngine,
    },
  ];
}

// ---- 3: resident memory ----

function* rssBatches(keys: number): Generator<Array<readonly [string, string]>> {
  for (let start = 0; start < keys; start += LOAD_BATCH) {
    const end = Math.min(keys, start + LOAD_BATCH);
    yield Array.from({ length: end - start }, (_, i) => [rssKey(start + i), rssValue(start + i)] as const);
  }
}

type Memory = Extract<ReaderResult, { kind: 'rss' }>;

async function rssRun(job: ReaderJob): Promise<Memory> {
  const result = await inReader(job);
  if (result.kind !== 'rss') throw new Error(`unexpected ${result.kind}`);
  return result;
}

/** `processes` readers of one job, measured at one moment, once every one of them has read every key. */
async function rssTogether(job: ReaderJob, processes: number): Promise<Memory[]> {
  const children = Array.from({ length: processes }, () =>
    fork(CHILD, [JSON.stringify({ ...job, together: true })], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const exits = children.map((child) => once(child, 'exit') as Promise<[number | null]>);
  const ready = children.map((child) => once(child, 'message'));
  const results = children.map(
    (child) =>
      new Promise<Memory>((resolve) =>
        child.on('message', (message: ReaderResult) => {
          if (message.kind === 'rss') resolve(message);
        }),
      ),
  );
  await Promise.all(ready);
  for (const child of children) child.send('measure');
  const codes = await Promise.all(exits);
  if (codes.some(([code]) => code !== 0)) throw new Error(`a reader process exited with ${codes.map(([code]) => code).join(', ')}`);
  return Promise.all(results);
}

function engineFor(accessMode: (typeof ACCESS_MODES)[number]): string {
  if (accessMode === 'file') return `silt ReadOnlyIndex (file, ${mib(FILE_CACHE_BYTES)} MiB cache/segment)`;
  return `silt ReadOnlyIndex (${accessMode})`;
}

async function rssRows(context: BenchContext): Promise<BenchRow[]> {
  const baseline = 'node + @silt/reader, no index';
  const rows: BenchRow[] = [];
  const bare: Memory[] = [];
  for (let round = 0; round < context.rounds; round++) bare.push(await rssRun({ kind: 'rss', accessMode: 'memory', keys: 0 }));
  for (const keys of RSS_SIZES) {
    const dir = join(context.scratch(`rss-${keys}`), 'idx');
    // Force-merged: the steady state of an index whose writer merges, and the smallest share of per-segment caches.
    const segments = await loadSilt(dir, rssBatches(keys), 1);
    const shape = `${count(keys)} keys (16 B, 100 B values, ${segments} segments), every key read once`;
    const alone = `resident memory of a reader process: ${shape}`;
    const own = `memory of a reader process's own (RssAnon, not the page cache's): ${shape}`;
    const together = `${READERS_TOGETHER} reader processes together, their Pss summed (a shared page counts once): ${shape}`;
    const measured = (workload: string, engine: string, runs: number[], reference = false): BenchRow => ({
      workload,
      engine,
      durability: 'read',
      unit: 'MiB',
      runs,
      lowerIsBetter: true,
      reference,
    });
    rows.push(
      measured(
        alone,
        baseline,
        bare.map((m) => mib(m.rssBytes)),
        true,
      ),
    );
    rows.push(
      measured(
        own,
        baseline,
        bare.map((m) => mib(m.anonBytes)),
        true,
      ),
    );
    for (const accessMode of ACCESS_MODES) {
      const runs: Memory[] = [];
      const sums: number[] = [];
      for (let round = 0; round < context.rounds; round++) {
        runs.push(await rssRun({ kind: 'rss', dir, accessMode, keys }));
        const group = await rssTogether({ kind: 'rss', dir, accessMode, keys }, READERS_TOGETHER);
        sums.push(mib(group.reduce((sum, m) => sum + m.pssBytes, 0)));
      }
      rows.push(
        measured(
          alone,
          engineFor(accessMode),
          runs.map((m) => mib(m.rssBytes)),
        ),
      );
      rows.push(
        measured(
          own,
          engineFor(accessMode),
          runs.map((m) => mib(m.anonBytes)),
        ),
      );
      rows.push(measured(together, engineFor(accessMode), sums));
    }
  }
  return rows;
}

export const suite: BenchSuite = {
  name: 'reader',
  async run(context: BenchContext): Promise<BenchRow[]> {
    return [...(await visibilityRows(context)), ...(await getRows(context)), ...(await rssRows(context))];
  },
};
