import { setTimeout as sleep } from 'node:timers/promises';
import { Index } from 'silt';
import { isToReader, wallClockMs, type FromReader } from './protocol.js';
import { DemoWorkload } from './workload.js';

/**
 * A reader process of `silt demo`: `Index.open` with default options, as an
 * application's worker would open it. The demo's writer holds the lock, so
 * this process is a client: it reads locally, tailing the writer's log, and
 * its own writes (a small stream of keys of its own) are forwarded to the
 * writer, which acknowledges them with its own in group commits.
 * It knows the demo's workload (the same keys and batches as the writer),
 * so it notes the moment the first key of each batch becomes readable
 * here: when it reads, which is at each `tail` and `refresh` event and
 * when a probe comes (a client applies the log as it reads). The writer tells it when each
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

/** The client's own writes: paced, so they show the forwarding without slowing the demo's load. */
const CLIENT_WRITE_GAP_MS = 10;

let index: Index;
try {
  index = await Index.open(directory);
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
  while (nextBatch < workload.batches && index.has(workload.firstKeyOf(nextBatch))) {
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

/** One awaited set after another, each timed from the call to its acknowledgement, until the writer says stop. */
async function writeOwnKeys(): Promise<void> {
  const prefix = `client/${process.pid}/`;
  for (let n = 0; stopping === undefined && !writesStopped; n++) {
    const started = wallClockMs();
    await index.set(`${prefix}${n}`, `written by client ${process.pid}`);
    send({ type: 'wrote', latenciesMs: [wallClockMs() - started] });
    await sleep(CLIENT_WRITE_GAP_MS);
  }
}

let stopping: Promise<void> | undefined;
let writesStopped = false;
let writing: Promise<void> = Promise.resolve();
function stop(): Promise<void> {
  stopping ??= writing
    .then(() => index.close())
    .finally(() => {
      if (process.connected) process.disconnect();
    });
  return stopping;
}

index.on('tail', () => {
  const latenciesMs = look();
  if (latenciesMs.length > 0) send({ type: 'visible', latenciesMs });
});
index.on('refresh', (generation) => send({ type: 'refresh', generation, latenciesMs: look() }));
index.on('error', (error) => send({ type: 'error', message: error.message }));
process.on('message', (message: unknown) => {
  if (!isToReader(message)) return;
  if (message.type === 'stop') {
    void stop();
    return;
  }
  if (message.type === 'stopWriting') {
    writesStopped = true;
    void writing.then(() => send({ type: 'stoppedWriting' }));
    return;
  }
  // A client applies the log when it reads (`tail: 'onRead'`): look now, as an application would read.
  const seen = look();
  if (seen.length > 0) send({ type: 'visible', latenciesMs: seen });
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
send({ type: 'ready', generation: index.stats().generation });
writing = writeOwnKeys().catch((error: unknown) => send({ type: 'error', message: `a write failed: ${String(error)}` }));
