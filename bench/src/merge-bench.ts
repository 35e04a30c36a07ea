import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileSystem } from '@silt/fs';
import { SegmentBuilder, SegmentReader } from '@silt/segments';
import { SegmentWorkerPool, mergeSegments, type MergeInput, type MergeRequest, type MergeResult } from '@silt/merger';
import type { BenchContext, BenchRow, BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { makeKeyValueDataset } from './key-value-dataset.js';

/**
 * Merge throughput: 8 segments of 250,000 keys each (16-byte random ASCII
 * keys, 100-byte string values), each sharing 50,000 keys with the one
 * before it, so a fifth of every segment but the first overwrites older
 * values. They are merged into one, newest wins, through the worker pool
 * (one merge thread) and, to show what the thread hop costs, on the
 * calling thread; and on the calling thread with the merge loop in
 * JavaScript (`loop: 'javascript'`, what an install without the
 * @silt/mmap addon runs), to show what the addon's loop buys. Beside them, the merge's read limit: the same process
 * opening each input in `file` mode and iterating every entry in order,
 * which is all a merge must do before it writes anything. Rates are input
 * bytes and input entries per second; the merge includes writing the
 * output and fsyncing it and its directory. Rounds take turns (see
 * interleaved-rounds.ts); every input is in the page cache, as a segment
 * flushed or merged moments earlier is.
 */

const SEGMENTS = 8;
const KEYS_PER_SEGMENT = Number(process.env.MERGE_BENCH_KEYS ?? 250_000);
const SHARED_WITH_PREVIOUS = KEYS_PER_SEGMENT / 5;
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
/** The merge's default input cache; the read limit uses the same. */
const CACHE_BYTES = 1024 * 1024;
const WORKLOAD = `merge ${SEGMENTS} segments × ${KEYS_PER_SEGMENT.toLocaleString('en-US')} keys (${KEY_BYTES} B keys, ${VALUE_BYTES} B values, 20 % overwritten) into one`;
const POOL = 'silt merge (pool, 1 worker)';
const THIS_THREAD = 'silt merge (calling thread)';
const JAVASCRIPT_LOOP = "silt merge (calling thread, JavaScript's loop instead of the addon's)";
const READ_LIMIT = 'read every input entry in order (the limit)';

/** Writes the inputs, oldest first; segment `s` holds keys `s * (K - shared) .. + K`. */
async function writeInputs(dir: string): Promise<MergeInput[]> {
  const step = KEYS_PER_SEGMENT - SHARED_WITH_PREVIOUS;
  const data = makeKeyValueDataset({
    count: step * (SEGMENTS - 1) + KEYS_PER_SEGMENT,
    keyBytes: KEY_BYTES,
    valueBytes: VALUE_BYTES,
    batchSize: 1,
    seed: 2027,
  });
  const inputs: MergeInput[] = [];
  for (let s = 0; s < SEGMENTS; s++) {
    const indexes = Array.from({ length: KEYS_PER_SEGMENT }, (_, i) => s * step + i);
    // ASCII keys: string order is byte order.
    indexes.sort((a, b) => (data.keys[a]! < data.keys[b]! ? -1 : 1));
    const input = { path: join(dir, `${s + 1}.seg`), minSequence: s * KEYS_PER_SEGMENT + 1, maxSequence: (s + 1) * KEYS_PER_SEGMENT };
    const builder = SegmentBuilder.create(input.path, { minSequence: input.minSequence, maxSequence: input.maxSequence });
    // A newer segment's value differs from the one it overwrites.
    for (const i of indexes) builder.put(data.keys[i]!, `${s}${data.values[i]!.slice(1)}`);
    await builder.finish();
    inputs.push(input);
  }
  return inputs;
}

interface Rates {
  readonly bytesPerSecond: number;
  readonly entriesPerSecond: number;
}

async function timed(inputBytes: number, inputEntries: number, body: () => Promise<void> | void): Promise<Rates> {
  const start = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { bytesPerSecond: inputBytes / 1e6 / seconds, entriesPerSecond: inputEntries / seconds };
}

/** Opens each input as a merge does and walks every entry, touching each key and value so nothing is skipped. */
function readEveryEntry(inputs: readonly MergeInput[]): number {
  let checksum = 0;
  for (const input of inputs) {
    using reader = SegmentReader.open(input.path, { access: 'file', cacheBytes: CACHE_BYTES, keyEncoding: 'binary' });
    for (const entry of reader.entries()) checksum += entry.key.length + (entry.kind === 'put' ? entry.value.length : 0);
  }
  return checksum;
}

/** The ratio goes on the MB/s row only: the harness finds a reference by workload and engine, and both units share the ratio anyway. */
function rows(engine: string, runs: readonly Rates[], ratioTo?: string): BenchRow[] {
  const reference = engine === READ_LIMIT;
  const durability = reference ? 'read' : 'fsync file + directory';
  return [
    {
      workload: WORKLOAD,
      engine,
      durability,
      unit: 'MB/s (input bytes)',
      runs: runs.map((rate) => rate.bytesPerSecond),
      reference,
      ...(ratioTo === undefined ? {} : { ratioTo }),
    },
    { workload: WORKLOAD, engine, durability, unit: 'entries/s (input)', runs: runs.map((rate) => rate.entriesPerSecond), reference },
  ];
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const dir = context.scratch('merge-inputs');
  const inputs = await writeInputs(dir);
  const stats = inputs.map((input) => {
    using reader = SegmentReader.open(input.path, { access: 'file' });
    return reader.stats();
  });
  const inputBytes = stats.reduce((sum, s) => sum + s.bytes, 0);
  const inputEntries = stats.reduce((sum, s) => sum + s.entries, 0);
  const expectedEntries = (SEGMENTS - 1) * (KEYS_PER_SEGMENT - SHARED_WITH_PREVIOUS) + KEYS_PER_SEGMENT;
  context.log(`${SEGMENTS} inputs: ${inputEntries} entries, ${inputBytes} bytes`);

  const pool = new SegmentWorkerPool({ mergeThreads: 1 });
  const outputPath = join(context.scratch('merge-output'), 'merged.seg');
  let outputBytes = 0;
  const merged = async (label: string, merge: (request: MergeRequest) => Promise<MergeResult>): Promise<Rates> => {
    let result: MergeResult | undefined;
    const rates = await timed(inputBytes, inputEntries, async () => {
      result = await merge({ inputs, outputPath, dropTombstones: true });
    });
    if (result === undefined || result.empty || result.entries !== expectedEntries)
      throw new Error(`${label}: expected ${expectedEntries} merged entries`);
    outputBytes = result.bytes;
    rmSync(outputPath);
    context.log(`${label}: ${rates.bytesPerSecond.toFixed(1)} MB/s, ${(rates.entriesPerSecond / 1000).toFixed(0)} k entries/s`);
    return rates;
  };
  try {
    // Untimed: start the worker thread and warm the JIT on both threads, as in a long-running index.
    for (const merge of [
      (request: MergeRequest) => pool.merge(request),
      (request: MergeRequest) => mergeSegments(nodeFileSystem, request),
      (request: MergeRequest) => mergeSegments(nodeFileSystem, request, { loop: 'javascript' }),
    ]) {
      await merge({ inputs: inputs.slice(0, 2), outputPath, dropTombstones: true });
      rmSync(outputPath);
    }
    const results = await interleavedRounds(context.rounds, {
      pool: () => merged('pool', (request) => pool.merge(request)),
      thisThread: () => merged('calling thread', (request) => mergeSegments(nodeFileSystem, request)),
      javascript: () => merged('JavaScript loop', (request) => mergeSegments(nodeFileSystem, request, { loop: 'javascript' })),
      read: () =>
        timed(inputBytes, inputEntries, () => {
          if (readEveryEntry(inputs) === 0) throw new Error('read nothing');
        }),
    });
    return [
      ...rows(POOL, results.pool, READ_LIMIT),
      ...rows(THIS_THREAD, results.thisThread, READ_LIMIT),
      ...rows(JAVASCRIPT_LOOP, results.javascript, READ_LIMIT),
      ...rows(READ_LIMIT, results.read),
      {
        workload: WORKLOAD,
        engine: 'silt inputs (8 files)',
        durability: 'fsync file + directory',
        unit: 'bytes',
        runs: [inputBytes],
        lowerIsBetter: true,
      },
      {
        workload: WORKLOAD,
        engine: 'silt merged segment',
        durability: 'fsync file + directory',
        unit: 'bytes',
        runs: [outputBytes],
        lowerIsBetter: true,
      },
    ];
  } finally {
    await pool.close();
  }
}

export const suite: BenchSuite = { name: 'merge', run };
