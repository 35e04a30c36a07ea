import { writerStats } from './writer-stats.js';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Index } from 'silt';
import { SeededRandom } from '@silt/fs/internal';
import { percentile, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { datasetOf, type KeyValueDataset } from './key-value-dataset.js';
import { pacedLoad, type PacedLoadResult } from './paced-load.js';
import {
  generatedKey,
  generatedValue,
  GENERATED_VALUE_BYTES,
  type EndMessage,
  type RealtimeJob,
  type RealtimeResult,
} from './realtime-bench-shared.js';

/**
 * Realtime reads across processes: a writer and readers in other processes
 * (forked realtime-bench-child.js), on four questions.
 *
 * 1. Visibility: from `set` resolving in the writer to `get` returning it in
 *    a reader process, with 2 and 4 readers at default settings (they tail
 *    the log), 2 with `tail: false`, and better-sqlite3 in WAL mode polled
 *    by 2 reader processes, while the writer holds 20,000 writes/s of
 *    100-byte values (default durability: its own timer flushes every
 *    second and the policy merges).
 * 2. The change feed: 4 subscriber processes on `ReadOnlyIndex.changes()`
 *    beside the same writer: latency to delivery, delivered rate, no gap.
 * 3. Gets in a reader whose keys sit in its tail (64 MiB the writer has not
 *    flushed), against the same keys flushed to a segment.
 * 4. What that tail costs the reader's memory, against the writer's
 *    unflushed bytes.
 */

const CHILD = fileURLToPath(new URL('./realtime-bench-child.js', import.meta.url));
const RATE = Number(process.env.REALTIME_BENCH_RATE ?? 20_000);
/** Seconds of probed load per round, after the warm-up. */
const SECONDS = Number(process.env.REALTIME_BENCH_SECONDS ?? 5);
const PROBE_EVERY_MS = 4;
const WARMUP_MS = 1_000;
const KEY_SPACE = 1_000_000;
const MIB = 1024 * 1024;
/** What the writer's memtable and the reader's tail count a key: its bytes, its value's, and 96 bytes of overhead. */
const TAIL_ENTRY_BYTES = 16 + GENERATED_VALUE_BYTES + 96;
const TAIL_KEYS = Math.ceil((64 * MIB) / TAIL_ENTRY_BYTES);
/** A child that has not answered by then is stuck (a lost probe): the round fails rather than hang. */
const RESULT_TIMEOUT_MS = 120_000;
/** `REALTIME_BENCH_CHILD_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the readers (NODE_OPTIONS may not hold --cpu-prof). */
const CHILD_ARGS = process.env.REALTIME_BENCH_CHILD_ARGS?.split(' ').filter((arg) => arg.length > 0) ?? [];

const count = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): number => bytes / MIB;

// ---- processes ----

interface Child {
  readonly ready: Promise<void>;
  readonly result: Promise<RealtimeResult>;
  end(load: PacedLoadResult): void;
  stop(): void;
}

function startChild(job: RealtimeJob): Child {
  const execArgv = ['--expose-gc', ...CHILD_ARGS];
  const child = fork(CHILD, [JSON.stringify(job)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const results: RealtimeResult[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.on('message', (message: RealtimeResult) => {
    if (message.kind === 'ready') markReady();
    else results.push(message);
  });
  const result = new Promise<RealtimeResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), RESULT_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && results.length === 1) resolve(results[0]!);
      else reject(new Error(`${job.kind} process exited with ${code ?? signal} and ${results.length} results`));
    });
  });
  const readyOrEnded = Promise.race([ready, result.then(() => Promise.reject(new Error(`${job.kind} process ended before it was ready`)))]);
  // Awaited later, or never (jobs that do not say they are ready): a failure must not be an unhandled rejection.
  result.catch(() => {});
  readyOrEnded.catch(() => {});
  return {
    ready: readyOrEnded,
    result,
    end: (load) => {
      const message: EndMessage = { kind: 'end', probes: load.probes, writes: load.writes };
      if (child.connected) child.send(message);
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function expect<Kind extends RealtimeResult['kind']>(child: Child, kind: Kind): Promise<Extract<RealtimeResult, { kind: Kind }>> {
  const result = await child.result;
  if (result.kind !== kind) throw new Error(`expected a ${kind} result, got ${result.kind}`);
  return result as Extract<RealtimeResult, { kind: Kind }>;
}

/** Starts `jobs`, waits until each is ready, runs `load`, and hands back the load's result and every child's. */
async function beside<Kind extends RealtimeResult['kind']>(
  jobs: readonly RealtimeJob[],
  kind: Kind,
  load: () => Promise<PacedLoadResult>,
): Promise<{ load: PacedLoadResult; results: Array<Extract<RealtimeResult, { kind: Kind }>> }> {
  const children = jobs.map(startChild);
  try {
    await Promise.all(children.map((child) => child.ready));
    const loaded = await load();
    for (const child of children) child.end(loaded);
    return { load: loaded, results: await Promise.all(children.map((child) => expect(child, kind))) };
  } finally {
    for (const child of children) child.stop();
  }
}

// ---- writers ----

interface Writer {
  readonly path: string;
  writeTick(pairs: ReadonlyArray<readonly [string, string]>): Promise<void>;
  describe(): string;
  close(): Promise<void>;
}

async function siltWriter(dir: string): Promise<Writer & { index: Index }> {
  const path = join(dir, 'idx');
  const index = await Index.open(path);
  return {
    path,
    index,
    // Every set of one turn shares one log record and one acknowledgement: the group commit.
    writeTick: async (pairs) => void (await Promise.all(pairs.map(([key, value]) => index.set(key, value)))),
    describe: () => {
      const stats = writerStats(index);
      return `${stats.flushes} flushes, ${stats.merges.completed} merges, ${stats.segments.length} segments, ${stats.stalledWrites} stalled, ${stats.backpressuredWrites} backpressured`;
    },
    close: () => index.close(),
  };
}

/** better-sqlite3 in WAL mode, synchronous=NORMAL (commits not fsynced, the WAL synced at checkpoints): silt's 'write' durability. */
function sqliteWriter(dir: string): Writer {
  const path = join(dir, 'kv.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const insert = db.prepare<[string, string]>('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
  const commit = db.transaction((pairs: ReadonlyArray<readonly [string, string]>) => {
    for (const [key, value] of pairs) insert.run(key, value);
  });
  return {
    path,
    writeTick: (pairs) => Promise.resolve(commit(pairs)),
    describe: () => 'sqlite auto-checkpoints every 1000 pages',
    close: () => Promise.resolve(void db.close()),
  };
}

function load(writer: Writer): () => Promise<PacedLoadResult> {
  return () =>
    pacedLoad({
      rate: RATE,
      durationMs: SECONDS * 1000,
      probeEveryMs: PROBE_EVERY_MS,
      warmupMs: WARMUP_MS,
      keySpace: KEY_SPACE,
      writeTick: writer.writeTick,
    });
}

// ---- 1: visibility ----

type VisibilityEngine = 'silt' | 'silt-no-tail' | 'sqlite';

interface LatencyRound {
  /** From the write's promise resolving. */
  readonly p50: number;
  readonly p99: number;
  /** From the write call. */
  readonly fromCall: { readonly p50: number; readonly p99: number };
  readonly rate: number;
}

function latencies(ackedAt: readonly number[], seen: ReadonlyArray<{ seenAt: readonly number[] }>): { p50: number; p99: number } {
  const all = seen.flatMap((result) => result.seenAt.map((at, i) => at - ackedAt[i]!));
  if (all.some(Number.isNaN)) throw new Error('a probe was seen that the writer never acknowledged');
  return { p50: percentile(all, 50), p99: percentile(all, 99) };
}

async function visibilityRound(context: BenchContext, engine: VisibilityEngine, readers: number): Promise<LatencyRound> {
  const dir = context.scratch(`visibility-${engine}-${readers}`);
  const writer = engine === 'sqlite' ? sqliteWriter(dir) : await siltWriter(dir);
  try {
    const job: RealtimeJob = { kind: 'visibility', engine, path: writer.path };
    const { load: loaded, results } = await beside(Array<RealtimeJob>(readers).fill(job), 'visibility', load(writer));
    const round = {
      ...latencies(loaded.probeAckedAt, results),
      fromCall: latencies(loaded.probeIssuedAt, results),
      rate: loaded.achievedRate,
    };
    context.log(`visibility ${engine} × ${readers}: ${JSON.stringify(round)}; ${writer.describe()}`);
    return round;
  } finally {
    await writer.close();
  }
}

// ---- 2: change feed ----

const SUBSCRIBERS = 4;

type FeedRound = LatencyRound & { readonly delivered: number };

async function feedRound(context: BenchContext, tail: boolean): Promise<FeedRound> {
  const writer = await siltWriter(context.scratch('feed'));
  try {
    const job: RealtimeJob = { kind: 'feed', dir: writer.path, tail };
    const { load: loaded, results } = await beside(Array<RealtimeJob>(SUBSCRIBERS).fill(job), 'feed', load(writer));
    for (const result of results) {
      // The sanity check: every acknowledged write reached every subscriber, in order, once.
      if (result.gaps !== 0 || result.changes !== loaded.writes) {
        throw new Error(`a subscriber got ${result.changes} changes with ${result.gaps} gaps; the writer acknowledged ${loaded.writes}`);
      }
    }
    const delivered = Math.min(...results.map((result) => (result.changes * 1000) / (result.lastAt - result.firstAt)));
    const round = {
      ...latencies(loaded.probeAckedAt, results),
      fromCall: latencies(loaded.probeIssuedAt, results),
      rate: loaded.achievedRate,
      delivered,
    };
    context.log(
      `feed × ${SUBSCRIBERS}, tail ${tail}: ${JSON.stringify(round)}, ${count(loaded.writes)} changes each, no gap; ${writer.describe()}`,
    );
    return round;
  } finally {
    await writer.close();
  }
}

/** Latency rows from `set` resolving (`from: 'resolve'`), from the write call, or both. */
function latencyRows(
  workload: string,
  engine: string,
  durability: string,
  rounds: readonly LatencyRound[],
  from: ReadonlyArray<'resolve' | 'call'> = ['resolve'],
): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const start of from) {
    const pick = start === 'resolve' ? (r: LatencyRound) => r : (r: LatencyRound) => r.fromCall;
    const what = start === 'resolve' ? workload : workload.replace('set resolved →', 'write call →');
    for (const stat of ['p50', 'p99'] as const) {
      rows.push({
        workload: `${what}, ${stat}`,
        engine,
        durability,
        unit: 'ms',
        runs: rounds.map((r) => pick(r)[stat]),
        lowerIsBetter: true,
      });
    }
  }
  return [
    ...rows,
    // The rate the writer held: a row of its own per part and engine, so the summary never takes it for a race.
    {
      workload: `writer's achieved rate (target ${count(RATE)}/s) in: ${workload}; ${engine}`,
      engine,
      durability,
      unit: 'writes/s',
      runs: rounds.map((r) => r.rate),
    },
  ];
}

/** `REALTIME_BENCH_ONLY=silt2,feed` runs those parts alone (silt2, silt4, no-tail, sqlite, feed, feed-no-tail, tail); all by default. */
const ONLY = process.env.REALTIME_BENCH_ONLY?.split(',');
const runs = (part: string): boolean => ONLY === undefined || ONLY.includes(part);

async function liveRows(context: BenchContext): Promise<BenchRow[]> {
  const under = `writer at ${count(RATE)} writes/s (100 B values)`;
  const visibility = (readers: number) =>
    `visibility: set resolved → get returns it in another process, ${readers} reader processes, ${under}`;
  const silt = 'write (default)';
  const tailing = 'silt ReadOnlyIndex (defaults: tailing)';
  const parts: Record<string, { round: () => Promise<LatencyRound>; rows: (rounds: LatencyRound[]) => BenchRow[] }> = {
    silt2: {
      round: () => visibilityRound(context, 'silt', 2),
      rows: (rounds) => latencyRows(visibility(2), tailing, silt, rounds, ['resolve', 'call']),
    },
    'no-tail': {
      round: () => visibilityRound(context, 'silt-no-tail', 2),
      rows: (rounds) => latencyRows(visibility(2), 'silt ReadOnlyIndex (tail: false)', silt, rounds),
    },
    sqlite: {
      round: () => visibilityRound(context, 'sqlite', 2),
      rows: (rounds) =>
        // From the call only: SQLite runs its auto-checkpoint inside the COMMIT that crosses 1000 pages, after the commit is
        // visible, so readers often see a row tens of ms before the writer's call returns (negative latency from the resolve).
        latencyRows(visibility(2), 'better-sqlite3 WAL, readers poll SELECT every 1 ms', 'write (WAL, synchronous=NORMAL)', rounds, [
          'call',
        ]),
    },
    silt4: { round: () => visibilityRound(context, 'silt', 4), rows: (rounds) => latencyRows(visibility(4), tailing, silt, rounds) },
    feed: {
      round: () => feedRound(context, true),
      rows: (rounds) => feedRows('silt ReadOnlyIndex.changes() (reader defaults: tailing)', rounds),
    },
    'feed-no-tail': {
      round: () => feedRound(context, false),
      rows: (rounds) => feedRows('silt ReadOnlyIndex.changes() (reader opened with tail: false)', rounds),
    },
  };
  function feedRows(engine: string, rounds: readonly LatencyRound[]): BenchRow[] {
    return [
      ...latencyRows(`change feed: set resolved → change handed over, ${SUBSCRIBERS} subscriber processes, ${under}`, engine, silt, rounds),
      {
        workload: `change feed: changes delivered per second to the slowest of ${SUBSCRIBERS} subscriber processes, ${under}`,
        engine,
        durability: silt,
        unit: 'changes/s',
        runs: rounds.map((r) => (r as FeedRound).delivered),
      },
    ];
  }
  const chosen = Object.entries(parts).filter(([name]) => runs(name));
  // Interleaved, so load that comes and goes on the shared machine falls on every part alike.
  const results = await interleavedRounds(context.rounds, Object.fromEntries(chosen.map(([name, part]) => [name, part.round])));
  return chosen.flatMap(([name, part]) => part.rows(results[name]!));
}

// ---- 3 and 4: a 64 MiB tail ----

function tailDataset(): KeyValueDataset {
  const keys = Array.from({ length: TAIL_KEYS }, (_, i) => generatedKey(i));
  const values = Array.from({ length: TAIL_KEYS }, (_, i) => generatedValue(i));
  return datasetOf(keys, values, GENERATED_VALUE_BYTES, 1_000, new SeededRandom(17));
}

async function tailRows(context: BenchContext): Promise<BenchRow[]> {
  const data = tailDataset();
  // A writer that does not flush: no timer, a memtable far past what it holds. Its writes live in its log and memtable only.
  const tailWriter = await Index.open(join(context.scratch('tail'), 'idx'), { refreshIntervalMs: 2 ** 31 - 1, memtableBytes: 1024 * MIB });
  const segmentDir = join(context.scratch('segments'), 'idx');
  try {
    for (const batch of data.pairBatches) await tailWriter.mset(batch);
    const stats = writerStats(tailWriter);
    if (stats.flushes !== 0 || stats.coveredSequence !== 0) throw new Error('the tail writer flushed');
    const unflushed = stats.memtable.bytes;
    const segmentWriter = await Index.open(segmentDir);
    for (const batch of data.pairBatches) await segmentWriter.mset(batch);
    // Merged to one segment: the like-for-like of one tail table, and the fastest gets a reader of segments has.
    await segmentWriter.forceMerge(1);
    const segments = segmentWriter.stats().segments.length;
    await segmentWriter.close();

    const gets = await expect(
      startChild({
        kind: 'tail-gets',
        tailDir: tailWriter.stats().directory,
        segmentDir,
        keys: TAIL_KEYS,
        tailSequence: stats.lastSequence,
        rounds: context.rounds,
      }),
      'tail-gets',
    );
    const memory = await interleavedRounds(context.rounds, {
      tail: () =>
        expect(
          startChild({ kind: 'memory', dir: tailWriter.stats().directory, keys: TAIL_KEYS, tailSequence: stats.lastSequence }),
          'memory',
        ),
      segments: () => expect(startChild({ kind: 'memory', dir: segmentDir, keys: TAIL_KEYS, tailSequence: 0 }), 'memory'),
    });
    context.log(
      `tail: ${count(gets.tailEntries)} keys, the reader counts ${mib(gets.tailBytes).toFixed(1)} MiB, the writer ${mib(unflushed).toFixed(1)} MiB unflushed`,
    );
    const what = `${count(TAIL_KEYS)} keys (16 B, ${GENERATED_VALUE_BYTES} B values)`;
    const getsWorkload = `random get in a reader process of ${what}: ${mib(gets.tailBytes).toFixed(0)} MiB tail vs flushed`;
    const inSegments = `silt ReadOnlyIndex, keys in ${segments} segment${segments === 1 ? '' : 's'} (memory mode, no tail)`;
    const inTail = 'silt ReadOnlyIndex, keys in its tail (writer has not flushed)';
    const growth = (
      runs: ReadonlyArray<{ before: { rssBytes: number; heapBytes: number }; after: { rssBytes: number; heapBytes: number } }>,
      field: 'rssBytes' | 'heapBytes',
    ) => runs.map((run) => mib(run.after[field] - run.before[field]));
    const memoryWorkload = (field: string) => `${field} growth of a reader process that opened and read ${what}`;
    const rows: BenchRow[] = [
      { workload: getsWorkload, engine: inSegments, durability: 'read', unit: 'gets/s', runs: gets.segments },
      { workload: getsWorkload, engine: inTail, durability: 'read', unit: 'gets/s', runs: gets.tail, ratioTo: inSegments },
    ];
    for (const [field, label] of [
      ['rssBytes', 'RSS'],
      ['heapBytes', 'heap'],
    ] as const) {
      const workload = memoryWorkload(label);
      rows.push(
        {
          workload,
          engine: "the writer's unflushed bytes (memtable count)",
          durability: 'read',
          unit: 'MiB',
          runs: [mib(unflushed)],
          lowerIsBetter: true,
          reference: true,
        },
        { workload, engine: inSegments, durability: 'read', unit: 'MiB', runs: growth(memory.segments, field), lowerIsBetter: true },
        { workload, engine: inTail, durability: 'read', unit: 'MiB', runs: growth(memory.tail, field), lowerIsBetter: true },
        {
          workload: `${label} growth of a reader process holding a tail, per byte the writer has not flushed`,
          engine: inTail,
          durability: 'read',
          unit: '× unflushed bytes',
          runs: growth(memory.tail, field).map((grown) => grown / mib(unflushed)),
          lowerIsBetter: true,
        },
      );
    }
    return rows;
  } finally {
    await tailWriter.close();
  }
}

export const suite: BenchSuite = {
  name: 'realtime',
  async run(context: BenchContext): Promise<BenchRow[]> {
    return [...(await liveRows(context)), ...(runs('tail') ? await tailRows(context) : [])];
  },
};
