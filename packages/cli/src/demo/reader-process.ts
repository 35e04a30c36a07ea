import { ReadOnlyIndex } from 'silt';
import { isToReader, wallClockMs, type FromReader } from './protocol.js';
import { DemoWorkload } from './workload.js';

/**
 * A reader process of `silt demo`: a ReadOnlyIndex with default options,
 * as an application's reader would open it, so it tails the writer's log.
 * It knows the demo's workload (the same keys and batches as the writer),
 * so it notes the moment the first key of each batch becomes readable
 * here: at each `tail` event (tailed writes applied) and each `refresh`,
 * with no message from the writer involved. The writer tells it when each
 * batch's `mset` resolved; the difference is the latency it reports. The
 * writer decides when it stops: Ctrl-C in the terminal reaches every
 * process of the group, and the writer closes readers before the index.
 */

process.on('SIGINT', () => undefined);

const send = (message: FromReader): void => {
  if (process.connected) process.send?.(message);
};

const [directory, keysText, batchText] = process.argv.slice(2);
if (directory === undefined || keysText === undefined || batchText === undefined)
  throw new Error('usage: reader-process <index directory> <keys> <batch size>');
const workload = new DemoWorkload(Number(keysText), Number(batchText));

let reader: ReadOnlyIndex;
try {
  reader = await ReadOnlyIndex.open(directory);
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

/** The batches are written one after another, so they become readable in order: the next one not seen yet. */
let nextBatch = 0;
/** Batch → when it became readable here, until the writer's probe for it comes. */
const readableAt = new Map<number, number>();
/** Batch → when the writer's mset of it resolved, until it is readable here. */
const writtenAt = new Map<number, number>();

/** Notes the batches that became readable since the last look; returns the latencies now complete. */
function look(): number[] {
  const now = wallClockMs();
  const latencies: number[] = [];
  while (nextBatch < workload.batches && reader.has(workload.firstKeyOf(nextBatch))) {
    const written = writtenAt.get(nextBatch);
    if (written === undefined) readableAt.set(nextBatch, now);
    else {
      writtenAt.delete(nextBatch);
      latencies.push(latency(written, now));
    }
    nextBatch++;
  }
  return latencies;
}

/**
 * A reader may serve a write a little before the writer's `await` of it
 * returns (the log's acknowledged marker moves before the promise resolves
 * there); such a write counts as visible at once.
 */
function latency(written: number, readable: number): number {
  return Math.max(0, readable - written);
}

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= reader.close().finally(() => {
    if (process.connected) process.disconnect();
  });
  return stopping;
}

reader.on('tail', () => {
  const latenciesMs = look();
  if (latenciesMs.length > 0) send({ type: 'visible', latenciesMs });
});
reader.on('refresh', (generation) => send({ type: 'refresh', generation, latenciesMs: look() }));
reader.on('error', (error) => send({ type: 'error', message: error.message }));
process.on('message', (message: unknown) => {
  if (!isToReader(message)) return;
  if (message.type === 'stop') {
    void stop();
    return;
  }
  const readable = readableAt.get(message.batch);
  if (readable === undefined) {
    writtenAt.set(message.batch, message.writtenAt);
    return;
  }
  readableAt.delete(message.batch);
  send({ type: 'visible', latenciesMs: [latency(message.writtenAt, readable)] });
});
// The writer went away (killed): nothing to report to, so close and end.
process.on('disconnect', () => void stop());
look();
send({ type: 'ready', generation: reader.generation });
