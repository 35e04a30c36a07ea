import { writerStats } from './writer-stats.js';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { ClosedError } from '@silt/fs';
import { Index, type IndexOptions } from 'silt';
import { median, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';
import {
  RESTART_BATCH,
  RESTART_KEY_BYTES,
  RESTART_VALUE_BYTES,
  type LoaderEngine,
  type LoaderJob,
  type LoaderReport,
} from './restart-bench-shared.js';

/**
 * How fast a supervisor (pm2, systemd, Kubernetes) gets the index back,
 * and how long it waits for it to let go:
 *
 * 1. reopen after SIGKILL: a loader process (restart-bench-child.js) loads
 *    random keys (16 B, 100 B values, awaited batches of 1,000) with no
 *    flush at all until its log holds about a full default memtable
 *    (64 MiB), reports the last key acknowledged, goes on loading, and is
 *    SIGKILLed. This process then times the open until it returns, until
 *    `get` of that key answers, and (silt) until the replayed log is in a
 *    committed segment. classic-level beside it, its write buffer above the
 *    load, so it too replays the whole load from its log (and, as LevelDB
 *    does on open, writes it to a level-0 table before open returns). The
 *    log is in the page cache, as it is when a process, not the machine,
 *    died.
 * 2. close() under load: writers keep 1,000-key msets in flight and close()
 *    is timed while they run, once the memtable holds tens of MiB and a
 *    flush is in flight; and close() right after an awaited load of 64 MiB
 *    left unflushed.
 */

const CHILD = fileURLToPath(new URL('./restart-bench-child.js', import.meta.url));
const MIB = 1024 * 1024;
/** 537 batches of 1,000 entries of 125 B and a 32 B header each: 64.0 MiB of silt log. */
const RELOAD_KEYS = Number(process.env.RESTART_BENCH_KEYS ?? 537_000);
/** classic-level's write buffer for the reopen rows: above the load, so its log holds all of it. */
const LEVEL_WRITE_BUFFER = 1024 * MIB;
/** Writers with a batch in flight each, in the close-under-load rows. */
const CLOSE_WRITERS = 4;
/** The close-under-load rows close once at least this much sits in silt's active memtable... */
const CLOSE_ACTIVE_BYTES = 32 * MIB;
/** ...and at least this many keys were acknowledged (classic-level closes at the same count). */
const CLOSE_AFTER_KEYS = 300_000;
/** No flush: no timer tick, no memtable overflow. */
const NO_FLUSH: IndexOptions = { refreshIntervalMs: 2 ** 31 - 1, memtableBytes: 4096 * MIB };
const SEED = 4242;
/** `reopen` or `close` runs only those rows (for profiling one side); unset, both. */
const ONLY = process.env.RESTART_BENCH_ONLY;

const count = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
const elapsedMs = (since: number): number => performance.now() - since;

function filesBytes(directory: string, suffix = ''): number {
  return readdirSync(directory)
    .filter((name) => name.endsWith(suffix))
    .reduce((sum, name) => sum + statSync(join(directory, name)).size, 0);
}

// ---- 1: reopen after SIGKILL ----

interface Killed {
  readonly path: string;
  readonly report: LoaderReport;
  /** Bytes of log on disk after the kill. */
  readonly logBytes: number;
}

/** Runs a loader process until it reports, then SIGKILLs it mid-load. */
async function loadAndKill(context: BenchContext, engine: LoaderEngine): Promise<Killed> {
  const path = join(context.scratch(`killed-${engine}`), 'db');
  const job: LoaderJob = { engine, path, keys: RELOAD_KEYS, seed: SEED, writeBufferSize: LEVEL_WRITE_BUFFER };
  const child = fork(CHILD, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  let report: LoaderReport | undefined;
  child.on('message', (message: LoaderReport) => {
    report = message;
    child.kill('SIGKILL');
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  if (report === undefined || signal !== 'SIGKILL') throw new Error(`${engine} loader exited with ${code ?? signal} before it was killed`);
  if (report.segments !== 0) throw new Error(`the silt loader flushed ${report.segments} segments: the load is not all in the log`);
  const logBytes = engine === 'silt' ? filesBytes(join(path, 'wal')) : filesBytes(path, '.log');
  if (engine === 'classic-level' && filesBytes(path, '.ldb') > 0) throw new Error('classic-level wrote tables before the kill');
  return { path, report, logBytes };
}

interface ReopenRound {
  readonly logBytes: number;
  readonly openMs: number;
  readonly firstGetMs: number;
  /** silt only: until the replayed log is in a committed segment. */
  readonly flushedMs?: number;
  readonly replayed?: number;
}

async function siltReopen(context: BenchContext): Promise<ReopenRound> {
  const { path, report, logBytes } = await loadAndKill(context, 'silt');
  const started = performance.now();
  const index = await Index.open(path);
  try {
    const openMs = elapsedMs(started);
    const value = index.get(report.lastKey);
    const firstGetMs = elapsedMs(started);
    if (value !== report.lastValue) throw new Error(`silt lost ${report.lastKey} in the kill`);
    await index.flush();
    const flushedMs = elapsedMs(started);
    const replayed = writerStats(index).recovery.replayedOperations;
    if (replayed < RELOAD_KEYS) throw new Error(`silt replayed ${replayed} operations, fewer than the ${RELOAD_KEYS} acknowledged`);
    return { logBytes, openMs, firstGetMs, flushedMs, replayed };
  } finally {
    await index.close();
  }
}

async function classicReopen(context: BenchContext): Promise<ReopenRound> {
  const { path, report, logBytes } = await loadAndKill(context, 'classic-level');
  const started = performance.now();
  const db = new ClassicLevel<string, string>(path, { writeBufferSize: LEVEL_WRITE_BUFFER });
  await db.open();
  try {
    const openMs = elapsedMs(started);
    const value = await db.get(report.lastKey);
    const firstGetMs = elapsedMs(started);
    if (value !== report.lastValue) throw new Error(`classic-level lost ${report.lastKey} in the kill`);
    return { logBytes, openMs, firstGetMs };
  } finally {
    await db.close();
  }
}

async function reopenRows(context: BenchContext): Promise<BenchRow[]> {
  const { silt, classic } = await interleavedRounds(context.rounds, {
    silt: () => siltReopen(context),
    classic: () => classicReopen(context),
  });
  context.log(`reopen: silt ${JSON.stringify(silt)}`);
  context.log(`reopen: classic-level ${JSON.stringify(classic)}`);
  const siltLog = mib(median(silt.map((r) => r.logBytes)));
  const classicLog = mib(median(classic.map((r) => r.logBytes)));
  const shape = `${count(RELOAD_KEYS)}+ keys (${RESTART_KEY_BYTES} B, ${RESTART_VALUE_BYTES} B values) unflushed`;
  const common = { unit: 'ms', lowerIsBetter: true } as const;
  const siltEngine = `silt Index.open (default options; ${siltLog} MiB of log)`;
  const classicEngine = `classic-level open (writeBufferSize ${LEVEL_WRITE_BUFFER / MIB} MiB; ${classicLog} MiB of log)`;
  const siltDurability = 'write (default): every acknowledged write back';
  const classicDurability = 'sync:false: every acknowledged write back';
  const opened = `reopen after SIGKILL mid-load, ${shape}: open returns`;
  const answered = `reopen after SIGKILL mid-load, ${shape}: get(last key written) answers`;
  const flushed = `reopen after SIGKILL mid-load, ${shape}: replayed log in a committed segment (open + flush())`;
  return [
    { workload: opened, engine: classicEngine, durability: classicDurability, runs: classic.map((r) => r.openMs), ...common },
    {
      workload: opened,
      engine: siltEngine,
      durability: siltDurability,
      runs: silt.map((r) => r.openMs),
      ratioTo: classicEngine,
      ...common,
    },
    { workload: answered, engine: classicEngine, durability: classicDurability, runs: classic.map((r) => r.firstGetMs), ...common },
    {
      workload: answered,
      engine: siltEngine,
      durability: siltDurability,
      runs: silt.map((r) => r.firstGetMs),
      ratioTo: classicEngine,
      ...common,
    },
    { workload: flushed, engine: siltEngine, durability: siltDurability, runs: silt.map((r) => r.flushedMs!), ...common },
  ];
}

// ---- 2: close() under load ----

type Batch = ReadonlyArray<readonly [string, string]>;

/**
 * `writers` loops, each with one batch in flight, over the dataset's batches
 * (round and round); stop once `write` rejects with a closed-store error.
 * Returns the promise of all loops, and a count of keys acknowledged.
 */
function continuousLoad(data: KeyValueDataset, write: (batch: Batch) => Promise<unknown>, isClosed: (error: unknown) => boolean) {
  const progress = { acknowledged: 0, lastAcknowledged: -1 };
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      const at = next++ % data.pairBatches.length;
      try {
        await write(data.pairBatches[at]!);
      } catch (error) {
        if (isClosed(error)) return;
        throw error;
      }
      progress.acknowledged += RESTART_BATCH;
      progress.lastAcknowledged = at;
    }
  };
  const loops = Promise.all(Array.from({ length: CLOSE_WRITERS }, loop));
  return { loops, progress };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

interface CloseRound {
  readonly closeMs: number;
  /** silt: bytes unflushed (active + sealed memtables) when close was called. */
  readonly unflushedBytes?: number;
  readonly activeBytes?: number;
  readonly sealed?: number;
}

async function siltCloseUnderLoad(context: BenchContext, data: KeyValueDataset): Promise<CloseRound> {
  const path = join(context.scratch('silt-close-load'), 'idx');
  const index = await Index.open(path);
  const { loops, progress } = continuousLoad(
    data,
    (batch) => index.mset(batch),
    (error) => error instanceof ClosedError,
  );
  let state = { activeBytes: 0, sealed: 0 };
  await until(() => {
    const { memtable } = writerStats(index);
    state = { activeBytes: memtable.bytes, sealed: memtable.sealed };
    return progress.acknowledged >= CLOSE_AFTER_KEYS && memtable.sealed >= 1 && memtable.bytes >= CLOSE_ACTIVE_BYTES;
  }, 'a flush in flight beside a full memtable');
  const lastAcknowledged = progress.lastAcknowledged;
  const started = performance.now();
  await index.close();
  const closeMs = elapsedMs(started);
  await loops;
  await checkSiltHolds(path, data, lastAcknowledged);
  return { closeMs, activeBytes: state.activeBytes, sealed: state.sealed };
}

async function classicCloseUnderLoad(context: BenchContext, data: KeyValueDataset): Promise<CloseRound> {
  const db = new ClassicLevel<string, string>(join(context.scratch('classic-close-load'), 'db'));
  await db.open();
  const isClosed = (error: unknown): boolean => (error as { code?: unknown }).code === 'LEVEL_DATABASE_NOT_OPEN';
  const { loops, progress } = continuousLoad(
    data,
    (batch) => db.batch(batch.map(([key, value]) => ({ type: 'put', key, value }))),
    isClosed,
  );
  await until(() => progress.acknowledged >= CLOSE_AFTER_KEYS, 'the load');
  const started = performance.now();
  await db.close();
  const closeMs = elapsedMs(started);
  await loops;
  return { closeMs };
}

/** Durability check, untimed: the last batch acknowledged before close is there after a reopen. */
async function checkSiltHolds(path: string, data: KeyValueDataset, batch: number): Promise<void> {
  const index = await Index.open(path);
  try {
    const [key, value] = data.pairBatches[batch]!.at(-1)!;
    if (index.get(key) !== value) throw new Error(`silt lost ${key} acknowledged before close()`);
  } finally {
    await index.close();
  }
}

async function siltCloseAfterLoad(context: BenchContext, data: KeyValueDataset): Promise<CloseRound> {
  const path = join(context.scratch('silt-close-after'), 'idx');
  const index = await Index.open(path, NO_FLUSH);
  const batches = RELOAD_KEYS / RESTART_BATCH;
  for (let i = 0; i < batches; i++) await index.mset(data.pairBatches[i]!);
  const unflushedBytes = filesBytes(join(path, 'wal'));
  const started = performance.now();
  await index.close();
  const closeMs = elapsedMs(started);
  await checkSiltHolds(path, data, batches - 1);
  return { closeMs, unflushedBytes };
}

async function classicCloseAfterLoad(context: BenchContext, data: KeyValueDataset): Promise<CloseRound> {
  const path = join(context.scratch('classic-close-after'), 'db');
  const db = new ClassicLevel<string, string>(path, { writeBufferSize: LEVEL_WRITE_BUFFER });
  await db.open();
  const batches = RELOAD_KEYS / RESTART_BATCH;
  for (let i = 0; i < batches; i++) await db.batch(data.pairBatches[i]!.map(([key, value]) => ({ type: 'put', key, value })));
  const unflushedBytes = filesBytes(path, '.log');
  const started = performance.now();
  await db.close();
  return { closeMs: elapsedMs(started), unflushedBytes };
}

async function closeRows(context: BenchContext): Promise<BenchRow[]> {
  const data = makeKeyValueDataset({
    count: RELOAD_KEYS,
    keyBytes: RESTART_KEY_BYTES,
    valueBytes: RESTART_VALUE_BYTES,
    batchSize: RESTART_BATCH,
    seed: SEED + 1,
  });
  const runs = await interleavedRounds(context.rounds, {
    siltLoad: () => siltCloseUnderLoad(context, data),
    classicLoad: () => classicCloseUnderLoad(context, data),
    siltAfter: () => siltCloseAfterLoad(context, data),
    classicAfter: () => classicCloseAfterLoad(context, data),
  });
  for (const [name, rounds] of Object.entries(runs)) context.log(`close: ${name} ${JSON.stringify(rounds)}`);
  const common = { unit: 'ms', lowerIsBetter: true } as const;
  const underLoad =
    `close() under load: ${CLOSE_WRITERS} writers with a ${count(RESTART_BATCH)}-key mset in flight each, ` +
    `closed once ${count(CLOSE_AFTER_KEYS)}+ keys are acknowledged (silt: and a flush is in flight beside ≥ ${mib(CLOSE_ACTIVE_BYTES)} MiB in the active memtable)`;
  const siltActive = mib(median(runs.siltLoad.map((r) => r.activeBytes!)));
  const afterLog = mib(median(runs.siltAfter.map((r) => r.unflushedBytes!)));
  const classicAfterLog = mib(median(runs.classicAfter.map((r) => r.unflushedBytes!)));
  const afterLoad = `close() right after an awaited load of ${count(RELOAD_KEYS)} keys left unflushed (silt ${afterLog} MiB of log)`;
  const classicDefault = 'classic-level close (default options)';
  const classicBig = `classic-level close (writeBufferSize ${LEVEL_WRITE_BUFFER / MIB} MiB; ${classicAfterLog} MiB of log)`;
  return [
    { workload: underLoad, engine: classicDefault, durability: 'sync:false', runs: runs.classicLoad.map((r) => r.closeMs), ...common },
    {
      workload: underLoad,
      engine: `silt close (default options; active memtable ${siltActive} MiB at close, median)`,
      durability: 'write (default); log fsynced by close',
      runs: runs.siltLoad.map((r) => r.closeMs),
      ratioTo: classicDefault,
      ...common,
    },
    { workload: afterLoad, engine: classicBig, durability: 'sync:false', runs: runs.classicAfter.map((r) => r.closeMs), ...common },
    {
      workload: afterLoad,
      engine: 'silt close (no flush during the load)',
      durability: 'write (default); log fsynced by close',
      runs: runs.siltAfter.map((r) => r.closeMs),
      ratioTo: classicBig,
      ...common,
    },
  ];
}

export const suite: BenchSuite = {
  name: 'restart',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    if (ONLY !== 'close') {
      context.log('reopen after SIGKILL');
      rows.push(...(await reopenRows(context)));
    }
    if (ONLY !== 'reopen') {
      context.log('close under load');
      rows.push(...(await closeRows(context)));
    }
    return rows;
  },
};
