import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRandom } from '@silt/fs/internal';
import { Index } from '../index-writer.js';
import { keyOf, printLine, valueOf, writerConfigSchema } from './reader-protocol.js';

/**
 * The writer the reader-process tests SIGKILL and restart. It opens the
 * index (recovering the last life's log), then writes numbered values
 * (reader-protocol.ts) in bursts of sets and msets until it is killed,
 * flushing on its refresh timer and on some bursts with `flush()`, merging
 * by its own policy and with `forceMerge(1)` every 10 bursts. On stdout:
 *
 *   ready <generation>   the index is open
 *   i <n>                writes up to <n> are about to be issued
 *   m <generation>       a forced merge committed
 *
 * Any failure exits with code 2 and the error on stderr.
 */

const config = writerConfigSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
const random = new SeededRandom(config.seed);

function die(what: string, error: unknown): never {
  process.stderr.write(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
}

// A child the parent forgot must not live on.
setTimeout(() => die('still running after 60 s', 'the parent never killed it'), 60_000).unref();

const index = await Index.open(config.dir, { refreshIntervalMs: config.refreshIntervalMs }).catch((error: unknown) =>
  die('open failed', error),
);
index.on('error', (error) => die('the index failed', error));
printLine(`ready ${index.stats().generation}`);

let n = config.firstN;
for (let burst = 1; ; burst++) {
  const size = random.intBetween(1, 12);
  const numbers = Array.from({ length: size }, (_, i) => n + i);
  n += size;
  printLine(`i ${n - 1}`);
  try {
    if (random.next() < 0.3) {
      await index.mset(numbers.map((k) => [keyOf(k), valueOf(k)] as const));
    } else {
      await Promise.all(numbers.map((k) => index.set(keyOf(k), valueOf(k))));
    }
    if (burst % 15 === 0) await index.flush();
    if (burst % 10 === 0) {
      await index.forceMerge(1);
      printLine(`m ${index.stats().generation}`);
    }
  } catch (error) {
    die(`writes up to ${n - 1} failed`, error);
  }
  await sleep(random.intBetween(0, 3));
}
