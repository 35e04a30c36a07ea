import { createHash } from 'node:crypto';
import { Index } from '../index-handle.js';
import { WriterChangedError } from '../role-errors.js';
import { BATCH_KEYS, FINAL_KEY_PREFIX, keyOf, memberConfigSchema, type FromMember, type ToMember } from './fleet-protocol.js';

/*
 * One member process of the many-writers test: opens the index with the
 * default role (the writer if it gets the lock, a client otherwise), writes
 * keys of its own from `concurrency` loops, checks it reads each write as
 * soon as it is acknowledged, and reports to the parent. The parent
 * SIGKILLs whichever member is the writer, at any moment.
 */

const config = memberConfigSchema.parse(JSON.parse(process.argv[2] ?? ''));
const send = (message: FromMember): void => {
  if (process.connected) process.send!(message);
};

const index = await Index.open(config.directory, { valueEncoding: 'utf8', keyEncoding: 'utf8' });
index.on('role', (role) => send({ type: 'role', role }));
index.on('error', (error) => send({ type: 'violation', message: `index error: ${error.message}` }));
send({ type: 'ready', role: index.stats().role, pid: process.pid });

let stopping = false;
let nextWrite = 0;
let acked: Array<readonly [string, string]> = [];
let reportQueued = false;

function report(writes: ReadonlyArray<readonly [string, string]>): void {
  acked.push(...writes);
  if (reportQueued) return;
  reportQueued = true;
  setImmediate(() => {
    reportQueued = false;
    send({ type: 'acked', writes: acked });
    acked = [];
  });
}

async function writeOne(): Promise<void> {
  const write = nextWrite++;
  const value = `v${write}`;
  const pairs: Array<readonly [string, string]> =
    write % 10 === 9
      ? Array.from({ length: BATCH_KEYS }, (_, part) => [keyOf(config.slot, config.incarnation, write, part), value] as const)
      : [[keyOf(config.slot, config.incarnation, write), value]];
  try {
    if (pairs.length === 1) await index.set(pairs[0]![0], value);
    else await index.mset(pairs);
  } catch (error) {
    if (error instanceof WriterChangedError) return send({ type: 'uncertain', keys: pairs.map(([key]) => key) });
    throw error;
  }
  for (const [key] of pairs) {
    const seen = index.get(key);
    if (seen !== value) send({ type: 'violation', message: `${key} read ${String(seen)} right after its write of ${value} resolved` });
  }
  report(pairs);
}

async function writeLoop(): Promise<void> {
  while (!stopping) await writeOne();
}

const loops = Array.from({ length: config.concurrency }, () =>
  writeLoop().catch((error: unknown) => send({ type: 'violation', message: `a write failed: ${String(error)}` })),
);

/** After the member's final write, which every other member's writes precede: what its reads see. */
async function digest(): Promise<void> {
  await index.set(`${FINAL_KEY_PREFIX}${config.slot}`, 'done');
  const hash = createHash('sha256');
  let keys = 0;
  for (const [key, value] of index.range()) {
    if (key.startsWith(FINAL_KEY_PREFIX)) continue;
    hash.update(`${key}\u0000${value}\u0000`);
    keys++;
  }
  send({ type: 'digest', digest: hash.digest('hex'), keys });
}

process.on('message', (message: ToMember) => {
  if (message.type === 'stop') {
    stopping = true;
    void Promise.all(loops).then(() => setImmediate(() => send({ type: 'stopped' })));
  } else if (message.type === 'final') {
    digest().catch((error: unknown) => send({ type: 'violation', message: `the final write failed: ${String(error)}` }));
  } else {
    void index.close().then(() => {
      send({ type: 'closed' });
      process.disconnect();
    });
  }
});
