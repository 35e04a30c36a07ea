import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { ReadOnlyIndex } from '@silt/reader';
import { SeededRandom } from '@silt/fs/internal';
import { datasetOf, warmGetRate } from './key-value-dataset.js';
import {
  generatedKey,
  generatedValue,
  GENERATED_VALUE_BYTES,
  probeKey,
  monotonicMs,
  type EndMessage,
  type MemoryUsage,
  type RealtimeJob,
  type RealtimeResult,
} from './realtime-bench-shared.js';

/**
 * The reading side of the realtime bench, in its own process (forked with
 * IPC): one job from argv[2], results by process.send, then exit.
 */

const job = JSON.parse(process.argv[2] ?? 'null') as RealtimeJob;

/**
 * How often a reader looks for the next probe by timer. SQLite has no event
 * for a new commit: it is polled every millisecond. silt's reader emits
 * 'tail' and 'refresh' right after the synchronous step that makes writes
 * readable, so looking then is exact; its timer is only a safety net, kept
 * slow because a 1 ms timer costs each process 15-20% of a core here, and
 * 4 such readers would take from the writer what is being measured.
 */
const SQLITE_POLL_MS = 1;
const SILT_POLL_MS = 10;

function send(result: RealtimeResult): void {
  process.send!(result);
}

/** Calls `listener` once the parent says the writer is done. */
function onEnd(listener: (end: EndMessage) => void): void {
  process.on('message', (message: EndMessage) => {
    if (message.kind === 'end') listener(message);
  });
}

/**
 * The first moment `get` returns each probe: silt looked at on each 'tail'
 * and 'refresh' event (the moments a write can become readable), SQLite
 * polled. Not a spinning loop: on a 2-core machine, spinning readers would
 * take the writer's CPU and measure the bench, not the engine.
 */
async function visibility(job: Extract<RealtimeJob, { kind: 'visibility' }>): Promise<void> {
  const seenAt: number[] = [];
  let get: (key: string) => unknown;
  let close: () => Promise<void>;
  const pollMs = job.engine === 'sqlite' ? SQLITE_POLL_MS : SILT_POLL_MS;
  if (job.engine === 'sqlite') {
    const db = new Database(job.path, { readonly: true });
    const select = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
    get = (key) => select.get(key);
    close = () => Promise.resolve(void db.close());
  } else {
    const reader = await ReadOnlyIndex.open(job.path, job.engine === 'silt-no-tail' ? { tail: false } : {});
    reader.on('tail', () => look());
    reader.on('refresh', () => look());
    get = (key) => reader.get(key);
    close = () => reader.close();
  }
  let probes = Number.POSITIVE_INFINITY;
  onEnd((end) => (probes = end.probes));
  const look = (): void => {
    while (seenAt.length < probes && get(probeKey(seenAt.length)) !== undefined) seenAt.push(monotonicMs());
  };
  send({ kind: 'ready' });
  while (seenAt.length < probes) {
    look();
    await sleep(pollMs);
  }
  await close();
  send({ kind: 'visibility', seenAt });
}

/** Every change from the subscription, checked for gaps, until as many as the writer made; probes timed as they are handed over. */
async function feed(job: Extract<RealtimeJob, { kind: 'feed' }>): Promise<void> {
  await using reader = await ReadOnlyIndex.open(job.dir, { tail: job.tail });
  const subscription = reader.changes();
  const seenAt: number[] = [];
  let changes = 0;
  let gaps = 0;
  let previous: number | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let writes = Number.POSITIVE_INFINITY;
  onEnd((end) => {
    writes = end.writes;
    // The last change may have come before the parent said it was the last.
    if (changes >= writes) subscription.close();
  });
  send({ kind: 'ready' });
  for await (const change of subscription) {
    const now = monotonicMs();
    if (changes++ === 0) firstAt = now;
    lastAt = now;
    if (previous !== undefined && change.sequence !== previous + 1) gaps++;
    previous = change.sequence;
    if (typeof change.key === 'string' && change.key.startsWith('probe-')) {
      seenAt.push(now);
      if (change.key !== probeKey(seenAt.length - 1)) throw new Error(`probe ${change.key} out of order`);
    }
    if (changes >= writes) break;
  }
  send({ kind: 'feed', seenAt, changes, gaps, firstAt, lastAt });
}

/** Waits until the reader shows every write through `sequence` (its tail read at open, or by events since). */
async function caughtUp(reader: ReadOnlyIndex, sequence: number): Promise<void> {
  while (reader.stats().visibleSequence < sequence) await Promise.race([once(reader, 'tail'), sleep(50)]);
}

/** The same random gets, interleaved round by round, from the tail of one index and the segments of the other. */
async function tailGets(job: Extract<RealtimeJob, { kind: 'tail-gets' }>): Promise<void> {
  await using tailReader = await ReadOnlyIndex.open(job.tailDir);
  await using segmentReader = await ReadOnlyIndex.open(job.segmentDir);
  await caughtUp(tailReader, job.tailSequence);
  const { tail } = tailReader.stats();
  if (tail.entries !== job.keys || tailReader.stats().coveredSequence !== 0) {
    throw new Error(
      `the tail holds ${tail.entries} keys over sequence ${tailReader.stats().coveredSequence}, expected ${job.keys} over none`,
    );
  }
  if (segmentReader.stats().tail.entries !== 0) throw new Error('the flushed index still has a tail');
  const keys = Array.from({ length: job.keys }, (_, i) => generatedKey(i));
  const values = Array.from({ length: job.keys }, (_, i) => generatedValue(i));
  const data = datasetOf(keys, values, GENERATED_VALUE_BYTES, 1_000, new SeededRandom(17));
  const result = {
    kind: 'tail-gets' as const,
    tail: [] as number[],
    segments: [] as number[],
    tailBytes: tail.bytes,
    tailEntries: tail.entries,
  };
  for (let round = 0; round < job.rounds; round++) {
    result.tail.push(await warmGetRate(data, (key) => tailReader.get(key)));
    result.segments.push(await warmGetRate(data, (key) => segmentReader.get(key)));
  }
  send(result);
}

/** Memory before opening the index and after reading every key once, the reader still open. */
async function memory(job: Extract<RealtimeJob, { kind: 'memory' }>): Promise<void> {
  const before = measure();
  const reader = await ReadOnlyIndex.open(job.dir);
  await caughtUp(reader, job.tailSequence);
  for (let i = 0; i < job.keys; i++) {
    if (reader.get(generatedKey(i))?.length !== GENERATED_VALUE_BYTES) throw new Error(`lost key ${generatedKey(i)}`);
  }
  const after = measure();
  const tailBytes = reader.stats().tail.bytes;
  await reader.close();
  send({ kind: 'memory', before, after, tailBytes });
}

function measure(): MemoryUsage {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapBytes: usage.heapUsed, externalBytes: usage.external };
}

switch (job.kind) {
  case 'visibility':
    await visibility(job);
    break;
  case 'feed':
    await feed(job);
    break;
  case 'tail-gets':
    await tailGets(job);
    break;
  case 'memory':
    await memory(job);
    break;
}
process.disconnect();
