import { SeededRandom } from '@silt/fs/internal';
import type { Durability } from '../wal-options.js';
import { WriteAheadLog } from '../write-ahead-log.js';
import { batchFor } from './workload.js';

/**
 * The child of the process-kill test. Opens the log, prints `ready <last>`,
 * then appends until it is killed: several awaiting writers with mixed batch
 * sizes plus bursts of many concurrent appends. Each acknowledged batch is
 * printed as `ack <firstSeq> <count>` once its promise resolves, so the
 * parent knows exactly what was acknowledged. Content comes from
 * workload.ts, a function of the sequence number, so the parent can check
 * the log without the child.
 *
 * Usage: node wal-child.js '{"dir":"...","durability":"write","seed":1,"maxFileBytes":65536}'
 */

interface ChildConfig {
  readonly dir: string;
  readonly durability: Durability;
  readonly seed: number;
  readonly maxFileBytes: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const random = new SeededRandom(config.seed);
// A child whose parent died must not run forever.
setTimeout(() => process.exit(3), 30_000).unref();

const wal = await WriteAheadLog.open(config.dir, { durability: config.durability, maxFileBytes: config.maxFileBytes, syncIntervalMs: 20 });

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function appendOne(count: number): Promise<void> {
  const first = wal.lastSequence + 1;
  const firstSeq = await wal.append(batchFor(first, count));
  if (firstSeq !== first) throw new Error(`append resolved with ${firstSeq}, expected ${first}`);
  say(`ack ${first} ${count}`);
}

function batchSize(): number {
  const roll = random.next();
  if (roll < 0.6) return 1;
  if (roll < 0.9) return random.intBetween(2, 8);
  return random.intBetween(20, 60);
}

async function steadyWriter(): Promise<void> {
  for (;;) await appendOne(batchSize());
}

async function burster(): Promise<void> {
  for (;;) {
    await Promise.all(Array.from({ length: random.intBetween(50, 300) }, () => appendOne(batchSize())));
    await new Promise((resolve) => setTimeout(resolve, random.intBetween(0, 5)));
  }
}

say(`ready ${wal.lastSequence}`);
await Promise.all([burster(), ...Array.from({ length: 8 }, steadyWriter)]);
