import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRandom } from '@silt/fs/internal';
import { Index } from '../index-handle.js';
import { KEY_SPACE, keyOf, printLine, valueOf, writeNumberOf, writerConfigSchema } from './reader-protocol.js';
import { writerStats } from './writer-stats.js';

/**
 * The writer the reader-process tests SIGKILL and restart. It opens the
 * index (recovering the last life's log), then writes numbered values
 * (reader-protocol.ts) in bursts of sets and msets until it is killed,
 * flushing on its refresh timer, at a full memtable and every `flushEvery`
 * bursts with `flush()`, merging by its own policy and with `forceMerge(1)`
 * every `mergeEvery` bursts. With `firstN` 0 it loads and waits for
 * `go <firstN>` on stdin before it opens the index. On stdout:
 *
 *   ready <generation> <lastSequence> <recoveredMax>
 *                        the index is open; its recovery kept the log up to
 *                        <lastSequence>, and <recoveredMax> is the highest
 *                        write number it holds (0: none)
 *   i <n>                writes up to <n> are about to be issued
 *   a <n>                writes up to <n> are acknowledged (their promises resolved)
 *   f <sequence>         a flush committed, covering the log up to <sequence>
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
setTimeout(() => die('still running after 120 s', 'the parent never killed it'), 120_000).unref();

/** The first write number: from the config, or from the parent's `go <firstN>` once it is known. */
async function firstWriteNumber(): Promise<number> {
  if (config.firstN > 0) return config.firstN;
  const lines = createInterface({ input: process.stdin });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  const firstN = Number(line.split(' ')[1]);
  if (!line.startsWith('go ') || !Number.isSafeInteger(firstN) || firstN < 1) die('bad go line', line);
  return firstN;
}
const firstN = await firstWriteNumber();

const index = await Index.open(config.dir, {
  refreshIntervalMs: config.refreshIntervalMs,
  durability: config.durability,
  ...(config.memtableBytes === undefined ? {} : { memtableBytes: config.memtableBytes }),
  ...(config.walFileBytes === undefined ? {} : { walFileBytes: config.walFileBytes }),
}).catch((error: unknown) => die('open failed', error));
index.on('error', (error) => die('the index failed', error));
index.on('flush', (event) => printLine(`f ${event.toSequence}`));

/** The newest write the recovered index holds: a life's writes survive as a prefix, so the rest of them were lost. */
function recoveredMax(): number {
  let max = 0;
  for (let slot = 0; slot < KEY_SPACE; slot++) {
    const value = index.get(keyOf(slot));
    if (value !== undefined) max = Math.max(max, writeNumberOf(keyOf(slot), value));
  }
  return max;
}
const { generation, lastSequence } = writerStats(index);
printLine(`ready ${generation} ${lastSequence} ${recoveredMax()}`);

let n = firstN;
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
    printLine(`a ${n - 1}`);
    if (config.flushEvery > 0 && burst % config.flushEvery === 0) await index.flush();
    if (config.mergeEvery > 0 && burst % config.mergeEvery === 0) {
      await index.forceMerge(1);
      printLine(`m ${index.stats().generation}`);
    }
  } catch (error) {
    die(`writes up to ${n - 1} failed`, error);
  }
  await sleep(random.intBetween(0, 3));
}
