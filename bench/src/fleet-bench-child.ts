import { setTimeout as sleep } from 'node:timers/promises';
import { open as openLmdb } from 'lmdb';
import { Index, WriterChangedError } from 'silt';
import {
  ACK_REPORT_MS,
  memberJobSchema,
  memberKey,
  memberValue,
  toMemberSchema,
  type FromMember,
  type MemberJob,
  type MemberRole,
  type MemberWork,
  type WorkResult,
} from './fleet-bench-shared.js';
import { monotonicMs } from './realtime-bench-shared.js';

/**
 * One member process of the fleet bench (forked with IPC): opens the store
 * named by its job (silt with the default role, so the first process to
 * take the lock is the writer and the rest are clients; or lmdb-js, where
 * every process writes the same file), says it is ready and in which role,
 * does its work when the parent says `go`, reports, and closes when told.
 * The parent SIGKILLs it at any moment in the failover part.
 */

const job = memberJobSchema.parse(JSON.parse(process.argv[2] ?? 'null'));

function send(message: FromMember): void {
  if (process.connected) process.send!(message);
}

/** What the work needs of a store: the same calls whichever engine is behind them. */
interface Store {
  role(): MemberRole;
  set(key: string, value: string): Promise<unknown>;
  get(key: string): unknown;
  /** silt's writer: clients connected now. */
  clients(): number | undefined;
  /** silt's writer: the log's group writes so far. */
  groupCommits(): number | undefined;
  writerChanges(): number;
  close(): Promise<void>;
}

async function openSilt(member: MemberJob): Promise<Store> {
  const index = await Index.open(member.path, { durability: member.durability });
  index.on('role', (role) => send({ type: 'role', role }));
  index.on('error', (error) => send({ type: 'failed', message: `index error: ${error.message}` }));
  return {
    role: () => index.stats().role,
    set: (key, value) => index.set(key, value),
    get: (key) => index.get(key),
    clients: () => {
      const stats = index.stats();
      return stats.role === 'writer' ? stats.clients : undefined;
    },
    groupCommits: () => {
      const stats = index.stats();
      return stats.role === 'writer' ? stats.wal.groupCommits : undefined;
    },
    writerChanges: () => {
      const stats = index.stats();
      return stats.role === 'writer' ? stats.writerChanges : stats.writer.changes;
    },
    close: () => index.close(),
  };
}

function openLmdbStore(member: MemberJob): Store {
  // Its defaults (overlappingSync: a put resolves once committed, the fsync follows), strings as they are.
  const db = openLmdb<string, string>({ path: member.path, encoding: 'string' });
  return {
    role: () => 'lmdb',
    set: (key, value) => db.put(key, value),
    get: (key) => db.get(key),
    clients: () => undefined,
    groupCommits: () => undefined,
    writerChanges: () => 0,
    close: () => db.close(),
  };
}

/**
 * `writes` sets from `loops` loops sharing one counter, each awaiting its set before taking the
 * next; with `readBack`, reading it back first (a client must see its own acknowledged write at once).
 */
async function sets(store: Store, loops: number, writes: number, readBack: boolean): Promise<WorkResult> {
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let i = next++; i < writes; i = next++) {
      const key = memberKey(job.slot, i);
      const value = memberValue(i);
      await store.set(key, value);
      if (readBack && store.get(key) !== value) throw new Error(`read back ${key} after its set resolved: not the value set`);
    }
  };
  const startedAt = monotonicMs();
  await Promise.all(Array.from({ length: loops }, loop));
  return { kind: 'sets', writes, startedAt, endedAt: monotonicMs() };
}

async function latency(store: Store, warmUpMs: number, durationMs: number): Promise<WorkResult> {
  let i = 0;
  for (const warm = performance.now() + warmUpMs; performance.now() < warm; i++) await store.set(memberKey(job.slot, i), memberValue(i));
  const micros: number[] = [];
  const deadline = performance.now() + durationMs;
  for (; performance.now() < deadline; i++) {
    const start = performance.now();
    await store.set(memberKey(job.slot, i), memberValue(i));
    micros.push((performance.now() - start) * 1000);
  }
  return { kind: 'latency', micros };
}

let stopping = false;
let closed = false;

/**
 * Sets until `stop`, the time of each acknowledgement reported in batches
 * (so the parent has them even if this process is killed later). A write a
 * failover left uncertain (WriterChangedError) is counted, not timed: it
 * was not acknowledged.
 */
async function stream(store: Store, loops: number, pauseMs: number): Promise<WorkResult> {
  let unreported: number[] = [];
  let acked = 0;
  let uncertain = 0;
  let uncertainWhy: string | undefined;
  let next = 0;
  let reportedAt = 0;
  const report = (): void => {
    if (unreported.length > 0) send({ type: 'acks', at: unreported });
    unreported = [];
  };
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const i = next++;
      try {
        await store.set(memberKey(job.slot, i), memberValue(i));
      } catch (error) {
        if (!(error instanceof WriterChangedError)) throw error;
        uncertain++;
        uncertainWhy ??= error.message;
        continue;
      }
      const now = monotonicMs();
      unreported.push(now);
      acked++;
      if (now - reportedAt >= ACK_REPORT_MS) {
        reportedAt = now;
        report();
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  report();
  return { kind: 'stream', acked, uncertain, uncertainWhy, writerChanges: store.writerChanges() };
}

function work(store: Store, what: MemberWork): Promise<WorkResult> {
  switch (what.kind) {
    case 'idle':
      return Promise.resolve({ kind: 'idle' });
    case 'sets':
      return sets(store, what.loops, what.writes, what.readBack);
    case 'latency':
      return latency(store, what.warmUpMs, what.durationMs);
    case 'stream':
      return stream(store, what.loops, what.pauseMs);
  }
}

const store = job.engine === 'silt' ? await openSilt(job) : openLmdbStore(job);
process.on('message', (raw: unknown) => {
  const message = toMemberSchema.parse(raw);
  switch (message.type) {
    case 'go':
      work(store, job.work).then(
        (result) => send({ type: 'done', result, clients: store.clients() }),
        (error: unknown) => send({ type: 'failed', message: `the work failed: ${String(error)}` }),
      );
      break;
    case 'stop':
      stopping = true;
      break;
    case 'close': {
      const groupCommits = store.groupCommits();
      store.close().then(
        () => {
          closed = true;
          send({ type: 'closed', groupCommits });
          process.disconnect();
        },
        (error: unknown) => send({ type: 'failed', message: `close failed: ${String(error)}` }),
      );
      break;
    }
  }
});
// Without its parent (it closed us, or it died: Ctrl-C, a crash), a member has nothing left to do.
process.on('disconnect', () => process.exit(closed ? 0 : 1));
send({ type: 'ready', role: store.role(), pid: process.pid });
