import { ClassicLevel } from 'classic-level';
import { Index } from 'silt';
import { makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';
import {
  RESTART_BATCH,
  RESTART_EXTRA_BATCHES,
  RESTART_KEY_BYTES,
  RESTART_VALUE_BYTES,
  type LoaderJob,
  type LoaderReport,
} from './restart-bench-shared.js';

/**
 * The loader of the restart bench, in its own process (forked with IPC):
 * loads `job.keys` random keys in awaited batches, reports the last key
 * acknowledged, and goes on loading until the parent SIGKILLs it. It never
 * closes anything: what survives is what the engine's log holds.
 */

const job = JSON.parse(process.argv[2] ?? 'null') as LoaderJob;
const batches = job.keys / RESTART_BATCH + RESTART_EXTRA_BATCHES;
const data = makeKeyValueDataset({
  count: batches * RESTART_BATCH,
  keyBytes: RESTART_KEY_BYTES,
  valueBytes: RESTART_VALUE_BYTES,
  batchSize: RESTART_BATCH,
  seed: job.seed,
});

/** Writes every batch in order, awaited one at a time; `reportAfter` batches in, tells the parent. */
async function load(write: (batch: ReadonlyArray<readonly [string, string]>) => Promise<unknown>, segments: () => number): Promise<void> {
  const reportAfter = job.keys / RESTART_BATCH;
  for (let i = 0; i < data.pairBatches.length; i++) {
    await write(data.pairBatches[i]!);
    if (i + 1 === reportAfter) report(data, job.keys - 1, segments());
  }
}

function report(dataset: KeyValueDataset, last: number, segments: number): void {
  const message: LoaderReport = { lastKey: dataset.keys[last]!, lastValue: dataset.values[last]!, segments };
  process.send!(message);
}

if (job.engine === 'silt') {
  // No flush for the whole load: no timer tick, no memtable overflow. Everything stays in the log.
  const index = await Index.open(job.path, { refreshIntervalMs: 2 ** 31 - 1, memtableBytes: 4096 * 1024 * 1024 });
  await load(
    (batch) => index.mset(batch),
    () => index.stats().segments.length,
  );
} else {
  const db = new ClassicLevel<string, string>(job.path, { writeBufferSize: job.writeBufferSize });
  await db.open();
  await load(
    (batch) => db.batch(batch.map(([key, value]) => ({ type: 'put', key, value }))),
    () => 0,
  );
}
// Loaded everything before the kill came: wait for it.
setInterval(() => undefined, 1000);
