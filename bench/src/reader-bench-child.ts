import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { open as openLmdb } from 'lmdb';
import { ReadOnlyIndex } from '@silt/reader';
import { makeKeyValueDataset, warmGetRate } from './key-value-dataset.js';
import { rssKey, RSS_VALUE_BYTES, visibilityKey, wallClockMs, type ReaderJob, type ReaderResult } from './reader-bench-shared.js';

/**
 * The reader side of the reader bench, in its own process (forked with
 * IPC): one job from argv[2], results by process.send, then exit.
 */

const job = JSON.parse(process.argv[2] ?? 'null') as ReaderJob;

function send(result: ReaderResult): void {
  process.send!(result);
}

/** The first moment `get` returns each key, polled every millisecond and at every refresh. */
async function visibility(dir: string, count: number): Promise<void> {
  await using reader = await ReadOnlyIndex.open(dir);
  const seenAt: number[] = [];
  const look = (): void => {
    while (seenAt.length < count && reader.get(visibilityKey(seenAt.length)) !== undefined) seenAt.push(wallClockMs());
  };
  reader.on('refresh', look);
  send({ kind: 'ready' });
  while (seenAt.length < count) {
    look();
    await sleep(1);
  }
  send({ kind: 'visibility', seenAt });
}

async function gets(job: Extract<ReaderJob, { kind: 'gets' }>): Promise<void> {
  const data = makeKeyValueDataset({ count: job.keys, keyBytes: job.keyBytes, valueBytes: job.valueBytes, batchSize: 1, seed: job.seed });
  // As the index bench: string values, no object cache, no read-ahead (a documented option its typings leave out).
  const lmdbOptions = { path: job.lmdbPath, encoding: 'string', readOnly: true, noReadAhead: true, cache: false } as const;
  const lmdb = openLmdb<string, string>(lmdbOptions);
  await using memory = await ReadOnlyIndex.open(job.siltDir, { accessMode: 'memory', watch: false });
  await using mmap = await ReadOnlyIndex.open(job.siltDir, { accessMode: 'mmap', watch: false });
  await using file = await ReadOnlyIndex.open(job.siltDir, { accessMode: 'file', cacheBytes: job.cacheBytes, watch: false });
  const result = {
    kind: 'gets' as const,
    siltMemory: [] as number[],
    siltMmap: [] as number[],
    siltMmapAccess: mmap.stats().accessMode,
    siltFile: [] as number[],
    lmdb: [] as number[],
  };
  // Interleaved: load on the machine that comes and goes falls on every engine alike.
  for (let round = 0; round < job.rounds; round++) {
    result.lmdb.push(await warmGetRate(data, (key) => lmdb.get(key)));
    result.siltMemory.push(await warmGetRate(data, (key) => memory.get(key)));
    result.siltMmap.push(await warmGetRate(data, (key) => mmap.get(key)));
    result.siltFile.push(await warmGetRate(data, (key) => file.get(key)));
  }
  await lmdb.close();
  send(result);
}

async function residentMemory(job: Extract<ReaderJob, { kind: 'rss' }>): Promise<void> {
  if (job.dir !== undefined) {
    const reader = await ReadOnlyIndex.open(job.dir, { accessMode: job.accessMode, watch: false });
    for (let i = 0; i < job.keys; i++) {
      if (reader.get(rssKey(i))?.length !== RSS_VALUE_BYTES) throw new Error(`lost key ${rssKey(i)}`);
    }
    // Measured with the reader open, as a serving process holds it.
    if (job.together === true) await measureWhenAsked();
    else measure();
    await reader.close();
  } else {
    measure();
  }
}

function measure(): void {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const { anonBytes, pssBytes } = sharedAndOwnMemory();
  send({ kind: 'rss', rssBytes: usage.rss, anonBytes, pssBytes, heapBytes: usage.heapUsed, externalBytes: usage.external });
}

async function measureWhenAsked(): Promise<void> {
  const asked = new Promise<void>((resolve) => process.once('message', () => resolve()));
  send({ kind: 'ready' });
  await asked;
  measure();
}

/** RssAnon (/proc/self/status) and Pss (/proc/self/smaps_rollup), in bytes; NaN where the OS has no /proc. */
function sharedAndOwnMemory(): { anonBytes: number; pssBytes: number } {
  const kib = (text: string, field: string): number => 1024 * Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  try {
    return {
      anonBytes: kib(readFileSync('/proc/self/status', 'utf8'), 'RssAnon'),
      pssBytes: kib(readFileSync('/proc/self/smaps_rollup', 'utf8'), 'Pss'),
    };
  } catch {
    return { anonBytes: NaN, pssBytes: NaN };
  }
}

switch (job.kind) {
  case 'visibility':
    await visibility(job.dir, job.count);
    break;
  case 'gets':
    await gets(job);
    break;
  case 'rss':
    await residentMemory(job);
    break;
}
process.disconnect();
