import { watch, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeFileSystem } from '@silt/fs';
import { ChangeFeed, ChangesTooOldError, type ChangeSubscription } from '@silt/reader';
import { parseSubscriberConfig } from './feed-subscriber-protocol.js';

/**
 * A subscriber in a process of its own: follows the change feed of an
 * index another process writes, with a `ChangeFeed` built on the index's
 * log directory and woken by file-system events on it (plus a safety poll),
 * as a `ReadOnlyIndex` would wake it. It prints, with a blocking write(2)
 * so that a line printed is a line the parent gets however soon the kill
 * comes:
 *
 *   loaded                    modules loaded; waits for `since <n>` or `now` on stdin
 *   ready <position>          subscribed; changes after <position> follow
 *   c <sequence> <json>       a change: [key, value] for a put, [key] for a delete
 *   p <position>              every change up to <position> was printed (sent when it moved)
 *   old <since> <oldest>      ChangesTooOldError; a new subscription from now on follows (its `ready`)
 *
 * Any other failure exits with code 2 and the error on stderr.
 */

const config = parseSubscriberConfig(process.argv[2]);
const walDirectory = join(config.dir, 'wal');
/** The safety poll: file-system events on wal/ wake it at once, this only covers a missed one. */
const POLL_MS = 50;

function writeFully(text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(1, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

function die(what: string, error: unknown): never {
  writeSync(2, `${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
}

// A child the parent forgot must not live on.
setTimeout(() => die('still running after 300 s', 'the parent never killed it'), 300_000).unref();

const listeners = new Set<() => void>();
const wakeAll = (): void => {
  for (const listener of listeners) listener();
};
watch(walDirectory, wakeAll).on('error', (error) => die('watching the log failed', error));
setInterval(wakeAll, POLL_MS);

const feed = new ChangeFeed({
  fs: nodeFileSystem,
  walDirectory,
  keyEncoding: 'utf8',
  onWake: (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
});

writeFully('loaded\n');
let subscription: ChangeSubscription = subscribe(await startingPoint());
let reported = -1;
setInterval(() => {
  if (subscription.position === reported) return;
  reported = subscription.position;
  writeFully(`p ${reported}\n`);
}, 10);

/** Where the parent says to start: after a sequence number, or from now on. */
async function startingPoint(): Promise<number | undefined> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'now') return undefined;
    const since = Number(line.split(' ')[1]);
    if (line.startsWith('since ') && Number.isSafeInteger(since)) return since;
    die('unexpected input', line);
  }
  return die('stdin closed', 'before a starting point came');
}

function subscribe(since: number | undefined): ChangeSubscription {
  const next = feed.changes({
    ...(since === undefined ? {} : { since }),
    ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
  });
  writeFully(`ready ${next.position}\n`);
  return next;
}

for (;;) {
  try {
    for await (const change of subscription) {
      if (typeof change.key !== 'string') die('a key came back as bytes', change.key);
      if (change.deleted === true) {
        writeFully(`c ${change.sequence} ${JSON.stringify([change.key])}\n`);
      } else {
        if (typeof change.value !== 'string') die('a text value came back as bytes', change.value);
        writeFully(`c ${change.sequence} ${JSON.stringify([change.key, change.value])}\n`);
      }
    }
    die('the subscription ended', 'nobody closed it');
  } catch (error) {
    if (!(error instanceof ChangesTooOldError)) die('the subscription failed', error);
    writeFully(`old ${error.since} ${error.oldestAvailable ?? 0}\n`);
    subscription = subscribe(undefined);
  }
}
