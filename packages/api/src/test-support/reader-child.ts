import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRandom } from '@silt/fs/internal';
import { ReadOnlyIndex } from '@silt/reader';
import {
  KEY_SPACE,
  keyOf,
  readerConfigSchema,
  writeNumberOf,
  type ReaderMessage,
  type ReaderPosition,
  type ReaderRequest,
} from './reader-protocol.js';

/**
 * A reader process of the reader-process tests (forked, with IPC). It opens
 * a ReadOnlyIndex and reads in a loop (gets, has, ranges, near) until it is
 * killed or told to close, checking as it goes:
 *
 * - every value it reads is one the writer writes for that key;
 * - per key, the write numbers it reads never go back (a generation never
 *   loses a write an older one had), and neither does `generation`;
 * - no read throws.
 *
 * It reports its progress every 100 ms, with the write numbers it read for
 * the first time since (so the parent can tell whether any was a write the
 * writer lost), and when told to close; any failed check or thrown read is a
 * `failure` message, then exit code 3.
 */

const config = readerConfigSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
const random = new SeededRandom(config.seed);

function send(message: ReaderMessage): void {
  process.send?.(message);
}

function fail(error: unknown): never {
  send({ type: 'failure', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  // Let the IPC message go out before exiting.
  setImmediate(() => process.exit(3));
  throw error;
}

// A child the parent forgot must not live on.
setTimeout(() => process.exit(4), 120_000).unref();

if (config.deferOpen) await new Promise<void>((resolve) => process.once('message', () => resolve()));
const reader = await ReadOnlyIndex.open(config.dir, { accessMode: config.accessMode, pollIntervalMs: config.pollIntervalMs }).catch(fail);
const backgroundErrors: string[] = [];
reader.on('error', (error) => backgroundErrors.push(error.stack ?? error.message));
let generation = reader.generation;
let refreshes = 0;
reader.on('refresh', (next) => {
  refreshes++;
  if (next <= generation) fail(new Error(`refresh to generation ${next} after ${generation}`));
  generation = next;
});

const lastSeen = new Int32Array(KEY_SPACE);
let maxN = 0;
let reads = 0;
/** Every write number read so far, and those not reported yet. */
const everSeen = new Set<number>();
let unreported: number[] = [];

function saw(key: string, value: unknown): void {
  reads++;
  if (value === undefined) return;
  const n = writeNumberOf(key, value);
  const slot = n % KEY_SPACE;
  if (n < lastSeen[slot]!) throw new Error(`${key} went back from write ${lastSeen[slot]!} to ${n} (generation ${reader.generation})`);
  lastSeen[slot] = n;
  maxN = Math.max(maxN, n);
  if (everSeen.has(n)) return;
  everSeen.add(n);
  unreported.push(n);
}

function position(): ReaderPosition {
  const stats = reader.stats();
  return {
    generation: stats.generation,
    coveredSequence: stats.coveredSequence,
    visibleSequence: stats.visibleSequence,
    tailEntries: stats.tail.entries,
  };
}

function report(): void {
  const seen = unreported;
  unreported = [];
  send({ type: 'report', generation, maxN, reads, refreshes, backgroundErrors, seen, position: position() });
}

/** Resolves at the reader's next 'tail' or 'refresh' event. */
function nextChange(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      reader.off('tail', done);
      reader.off('refresh', done);
      resolve();
    };
    reader.on('tail', done);
    reader.on('refresh', done);
  });
}

/** Does every key show at least the write `floor` names for it? Each read is checked as any other. */
function reachedFloor(floor: readonly number[]): boolean {
  for (let slot = 0; slot < KEY_SPACE; slot++) {
    const key = keyOf(slot);
    const value = reader.get(key);
    saw(key, value);
    if ((floor[slot] ?? 0) > 0 && (value === undefined || writeNumberOf(key, value) < floor[slot]!)) return false;
  }
  return true;
}

function readSome(): void {
  if (reader.generation < generation) throw new Error(`generation went back from ${generation} to ${reader.generation}`);
  for (let i = 0; i < 50; i++) {
    const key = keyOf(random.intBetween(0, KEY_SPACE - 1));
    saw(key, reader.get(key));
  }
  const roll = random.next();
  const from = keyOf(random.intBetween(0, KEY_SPACE - 1));
  if (roll < 0.3) for (const [key, value] of reader.range({ gte: from, limit: 20 })) saw(key as string, value);
  // minPrefix 1: every key the writer writes starts with 'k'; the parent's markers do not.
  else if (roll < 0.5) for (const [key, value] of reader.near(from.slice(0, 3), { limit: 5, minPrefix: 1 })) saw(key as string, value);
  else if (!reader.has(from) && lastSeen[Number(from.slice(1))]! > 0) throw new Error(`${from} was seen, then has() says absent`);
}

async function answer(request: ReaderRequest): Promise<void> {
  if (request.type === 'close') {
    stopped = true;
    clearInterval(reporter);
    report();
    await reader.close();
    send({ type: 'closed' });
    process.disconnect?.();
    return;
  }
  if (request.type === 'open') throw new Error('told to open twice');
  const started = performance.now();
  if (request.type === 'catchUp') {
    // Only the reader's own events may bring the writes in: no refresh(), no poll within a test.
    while (!reachedFloor(request.floor)) await nextChange();
    send({ type: 'caughtUp', position: position(), waitedMs: performance.now() - started });
    return;
  }
  if (request.refresh) await reader.refresh();
  // Without refresh(), wait for the watch to bring the write in (the parent bounds the wait).
  while (!request.refresh && reader.get(request.key) !== request.value) await sleep(1);
  const got = reader.get(request.key);
  send({
    type: 'expected',
    got: typeof got === 'string' ? got : null,
    generation: reader.generation,
    waitedMs: performance.now() - started,
  });
}

let stopped = false;
process.on('message', (request: ReaderRequest) => void answer(request).catch(fail));
send({ type: 'ready', generation });
const reporter = setInterval(report, 100);
while (!stopped) {
  try {
    readSome();
  } catch (error) {
    fail(error);
  }
  await sleep(config.readPauseMs);
}
clearInterval(reporter);
