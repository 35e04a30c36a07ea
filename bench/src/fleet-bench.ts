import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import type { FromMember, MemberJob, MemberRole, MemberWork, ToMember, WorkResult } from './fleet-bench-shared.js';
import { monotonicMs } from './realtime-bench-shared.js';
import { socketRoundTrips } from './socket-round-trip.js';

/**
 * Many processes writing one index (issue 15): silt with the default role,
 * where the process holding the writer lock serves the others' writes over
 * `writer.sock`. Every store is opened in a forked member process
 * (fleet-bench-child.js); the bench process only starts, commands, times
 * and kills them.
 *
 * 1. Forwarded throughput: 4 client processes of 16 awaited-set loops each,
 *    the writer process idle, against the writer alone running all 64
 *    loops; beside it lmdb-js, 4 processes writing one env with the same
 *    loops, and lmdb-js in one process.
 * 2. The latency of one awaited set at a time in `fsync` mode, from a
 *    client against in the writer; beside them a bare round trip between
 *    two node processes over a Unix socket, the least forwarding adds.
 * 3. Failover: the writer among 1 writer + 4 clients, all writing, is
 *    SIGKILLed; each surviving client's wait from its last acknowledgement
 *    before the kill to its first after.
 * 4. The writer's own rate with 4 idle clients connected, against none.
 * 5. Throughput as in 1, each loop reading back (`get`) the key it just set
 *    before its next set: a client's read of its own acknowledged write
 *    first reads the log up to it. Beside it lmdb-js, 4 processes doing
 *    the same.
 */

const CHILD = fileURLToPath(new URL('./fleet-bench-child.js', import.meta.url));
const CLIENTS = 4;
/** Awaited-set loops in all, split evenly among the writing processes. */
const LOOPS = Number(process.env.FLEET_BENCH_LOOPS ?? 64);
/** Sets per throughput round, in all. */
const WRITES = Number(process.env.FLEET_BENCH_WRITES ?? 40_000);
const LATENCY_MS = 1_500;
/**
 * Untimed sets first, the same in both processes: for the first second or
 * so V8 compiles the hot path on its helper threads, which on two cores
 * take the CPU from the writer and the client in turn (the forwarded p99
 * was 2.2-2.9 ms cold, 0.7-0.8 ms warm in one session's runs; the writer
 * alone barely moved).
 */
const LATENCY_WARM_UP_MS = 2_000;
/** Bare socket round trips timed a round, after ROUND_TRIP_WARM_UP untimed. */
const ROUND_TRIPS = 10_000;
const ROUND_TRIP_WARM_UP = 1_000;
/** Loops each member runs while the writer is being killed: writes in flight at every kill. */
const STREAM_LOOPS = 2;
/**
 * Each loop pauses this long after each acknowledgement: the fleet writes
 * steadily without taking both cores, so the failover is measured rather
 * than the CPU queue. `FLEET_BENCH_PAUSE_MS=0` writes flat out.
 */
const STREAM_PAUSE_MS = Number(process.env.FLEET_BENCH_PAUSE_MS ?? 1);
/** Acknowledgements every member must have had since the last kill (a new member: since it started) before the next. */
const ACKS_BETWEEN_KILLS = 50;
const MIN_KILLS_PER_ROUND = 4;
const MIN_KILLS = 20;
/** A member that has not answered by then is stuck, not slow: the round fails rather than hang. */
const STUCK_MS = 60_000;
/** `FLEET_BENCH_CHILD_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles every member (node refuses --cpu-prof in NODE_OPTIONS). */
const CHILD_ARGS = process.env.FLEET_BENCH_CHILD_ARGS?.split(' ').filter((arg) => arg.length > 0) ?? [];
/** `FLEET_BENCH_ONLY=forwarded,failover` runs those parts alone (see `Part`); all by default. */
const ONLY = process.env.FLEET_BENCH_ONLY?.split(',');

const DEBUG = process.env.FLEET_BENCH_DEBUG === '1';
const count = (n: number): string => n.toLocaleString('en-US');

// ---- member processes ----

/** What the bench knows of a member, as its messages and its exit tell it. */
interface MemberState {
  role: MemberRole | undefined;
  result: WorkResult | undefined;
  /** Clients connected to it when it finished its work, if it is silt's writer. */
  clients: number | undefined;
  groupCommits: number | undefined;
  closed: boolean;
  exited: boolean;
  killed: boolean;
}

/** One forked member process. */
class Member {
  readonly process: ChildProcess;
  readonly state: MemberState = {
    role: undefined,
    result: undefined,
    clients: undefined,
    groupCommits: undefined,
    closed: false,
    exited: false,
    killed: false,
  };
  /** Acknowledgement times a `stream` member reported, in order. */
  readonly ackedAt: number[] = [];
  /** How many of `ackedAt` there were at the last `mark()`. */
  private acksAtMark = 0;

  constructor(
    readonly job: MemberJob,
    private readonly group: Group,
    /** Says `go` as soon as the member is ready (the failover part's members, replacements included). */
    private readonly goWhenReady: boolean,
  ) {
    this.process = fork(CHILD, [JSON.stringify(job)], { execArgv: CHILD_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (message: FromMember) => this.hear(message));
    this.process.on('exit', (code, signal) => {
      this.state.exited = true;
      if (!this.state.killed && !(this.state.closed && code === 0))
        group.fail(`member ${job.slot} (${this.state.role}) exited with ${code ?? signal}`);
      group.notify();
    });
  }

  get live(): boolean {
    return !this.state.exited && !this.state.killed;
  }

  tell(message: ToMember): void {
    if (this.process.connected) this.process.send(message);
  }

  kill(): void {
    if (this.state.exited) return;
    this.state.killed = true;
    this.process.kill('SIGKILL');
  }

  /** Acknowledgements since the last `mark()`. */
  acksSinceMark(): number {
    return this.ackedAt.length - this.acksAtMark;
  }

  mark(): void {
    this.acksAtMark = this.ackedAt.length;
  }

  private hear(message: FromMember): void {
    switch (message.type) {
      case 'ready':
        this.state.role = message.role;
        if (this.goWhenReady) this.tell({ type: 'go' });
        break;
      case 'role':
        this.state.role = message.role;
        break;
      case 'acks':
        for (const at of message.at) this.ackedAt.push(at);
        break;
      case 'done':
        this.state.result = message.result;
        this.state.clients = message.clients;
        break;
      case 'failed':
        this.group.fail(`member ${this.job.slot} (${this.state.role}): ${message.message}`);
        break;
      case 'closed':
        this.state.closed = true;
        this.state.groupCommits = message.groupCommits;
        break;
    }
    this.group.notify();
  }
}

/** The members of one measurement; every one of them is SIGKILLed at the end if still running, whatever happened. */
class Group {
  readonly members: Member[] = [];
  private failure: string | undefined;
  private readonly waiters = new Set<() => void>();

  start(job: MemberJob, goWhenReady = false): Member {
    const member = new Member(job, this, goWhenReady);
    this.members.push(member);
    return member;
  }

  /** Starts one member and waits until it says it is ready in `role`. */
  async startAs(role: MemberRole, job: MemberJob): Promise<Member> {
    const member = this.start(job);
    await this.until(`member ${job.slot} ready`, () => member.state.role !== undefined);
    if (member.state.role !== role) throw new Error(`member ${job.slot} opened as ${member.state.role}, not ${role}`);
    return member;
  }

  live(): Member[] {
    return this.members.filter((member) => member.live);
  }

  writer(): Member | undefined {
    return this.members.find((member) => member.live && member.state.role === 'writer');
  }

  fail(message: string): void {
    this.failure ??= message;
  }

  notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves once `condition()` holds; rejects if a member failed, or after STUCK_MS. */
  async until(what: string, condition: () => boolean): Promise<void> {
    let check = (): void => undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        check = (): void => {
          if (this.failure !== undefined) reject(new Error(this.failure));
          else if (condition()) resolve();
        };
        this.waiters.add(check);
        timer = setTimeout(() => reject(new Error(`fleet bench stuck waiting for ${what}`)), STUCK_MS);
        check();
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(check);
    }
  }

  async goAndWait(members: readonly Member[]): Promise<void> {
    for (const member of members) member.tell({ type: 'go' });
    await this.until('the work done', () => members.every((member) => member.state.result !== undefined));
  }

  /** Clients (and lmdb members) close first, the writer last: closing it first would make the clients fail over. */
  async close(): Promise<void> {
    const writer = this.writer();
    const others = this.live().filter((member) => member !== writer);
    for (const member of others) member.tell({ type: 'close' });
    await this.until('the members closed', () => others.every((member) => member.state.closed && member.state.exited));
    if (writer === undefined) return;
    writer.tell({ type: 'close' });
    await this.until('the writer closed', () => writer.state.closed && writer.state.exited);
  }

  killAll(): void {
    for (const member of this.members) member.kill();
  }
}

async function withGroup<T>(body: (group: Group) => Promise<T>): Promise<T> {
  const group = new Group();
  try {
    return await body(group);
  } finally {
    group.killAll();
  }
}

function siltJob(path: string, slot: number, work: MemberWork, durability: MemberJob['durability'] = 'write'): MemberJob {
  return { engine: 'silt', path, durability, slot, work };
}

const idle: MemberWork = { kind: 'idle' };
/** The loops and writes split among `processes`; `readBack`: each set is read back before the loop's next. */
const sets = (processes: number, readBack: boolean): MemberWork => ({
  kind: 'sets',
  loops: LOOPS / processes,
  writes: WRITES / processes,
  readBack,
});

/** Writes per second over every member's sets: all of them over the time from the first start to the last end. */
function setRate(members: readonly Member[]): number {
  const results = members.map((member) => {
    if (member.state.result?.kind !== 'sets') throw new Error(`member ${member.job.slot} has no sets result`);
    return member.state.result;
  });
  const writes = results.reduce((sum, result) => sum + result.writes, 0);
  const started = Math.min(...results.map((result) => result.startedAt));
  const ended = Math.max(...results.map((result) => result.endedAt));
  return (writes * 1000) / (ended - started);
}

// ---- 1 and 4: throughput ----

type SiltSetup = 'alone' | 'forwarded' | 'idle-clients';

/**
 * `alone`: the writer runs every loop. `forwarded`: the writer is idle and
 * 4 clients run the loops. `idle-clients`: the writer runs every loop with
 * 4 clients connected that do nothing.
 */
async function siltSetsRound(context: BenchContext, setup: SiltSetup, readBack = false): Promise<number> {
  const path = join(context.scratch(`silt-${setup}${readBack ? '-read-back' : ''}`), 'idx');
  return withGroup(async (group) => {
    const writer = await group.startAs('writer', siltJob(path, 0, setup === 'forwarded' ? idle : sets(1, readBack)));
    const clientWork = setup === 'forwarded' ? sets(CLIENTS, readBack) : idle;
    const clients = setup === 'alone' ? [] : Array.from({ length: CLIENTS }, (_, i) => group.start(siltJob(path, i + 1, clientWork)));
    await group.until('the clients ready', () => clients.every((client) => client.state.role !== undefined));
    for (const client of clients) if (client.state.role !== 'client') throw new Error(`a client opened as ${client.state.role}`);
    await group.goAndWait([writer, ...clients]);
    if (writer.state.clients !== clients.length)
      throw new Error(`the writer served ${writer.state.clients} clients, not ${clients.length}`);
    const rate = setRate(setup === 'forwarded' ? clients : [writer]);
    await group.close();
    const perCommit = WRITES / (writer.state.groupCommits ?? Number.NaN);
    const readBackNote = readBack ? ' (each read back)' : '';
    context.log(
      `silt ${setup}: ${count(Math.round(rate))} sets/s${readBackNote}, ${perCommit.toFixed(1)} sets per group commit of the log`,
    );
    return rate;
  });
}

/** lmdb-js: `processes` processes writing one env at once, the loops split among them. */
async function lmdbSetsRound(context: BenchContext, processes: number, readBack = false): Promise<number> {
  const path = join(context.scratch(`lmdb-${processes}${readBack ? '-read-back' : ''}`), 'db');
  const job = (slot: number): MemberJob => ({ engine: 'lmdb', path, durability: 'write', slot, work: sets(processes, readBack) });
  return withGroup(async (group) => {
    // The first creates the env; the others open it.
    const first = await group.startAs('lmdb', job(0));
    const others = Array.from({ length: processes - 1 }, (_, i) => group.start(job(i + 1)));
    await group.until('the lmdb processes ready', () => others.every((member) => member.state.role !== undefined));
    const all = [first, ...others];
    await group.goAndWait(all);
    const rate = setRate(all);
    context.log(`lmdb-js × ${processes} processes: ${count(Math.round(rate))} puts/s${readBack ? ' (each read back)' : ''}`);
    await group.close();
    return rate;
  });
}

// ---- 2: latency in fsync mode ----

/** Microseconds of each awaited set, in the writer process or forwarded from a client process. */
async function latencyRound(context: BenchContext, forwarded: boolean): Promise<number[]> {
  const path = join(context.scratch(`latency-${forwarded ? 'forwarded' : 'writer'}`), 'idx');
  const timed: MemberWork = { kind: 'latency', warmUpMs: LATENCY_WARM_UP_MS, durationMs: LATENCY_MS };
  return withGroup(async (group) => {
    const writer = await group.startAs('writer', siltJob(path, 0, forwarded ? idle : timed, 'fsync'));
    const client = forwarded ? await group.startAs('client', siltJob(path, 1, timed, 'fsync')) : undefined;
    const measured = client ?? writer;
    await group.goAndWait(client === undefined ? [writer] : [writer, client]);
    if (measured.state.result?.kind !== 'latency') throw new Error('no latency result');
    const { micros } = measured.state.result;
    const at = (p: number): string => percentile(micros, p).toFixed(0);
    context.log(
      `fsync set latency ${forwarded ? 'forwarded' : 'in the writer'}: ${micros.length} sets, p50 ${at(50)} µs, p90 ${at(90)}, p99 ${at(99)}, p99.9 ${at(99.9)}, max ${Math.max(...micros).toFixed(0)}; ${micros.filter((m) => m > 1000).length} over 1 ms`,
    );
    await group.close();
    return micros;
  });
}

async function roundTripRound(context: BenchContext): Promise<number[]> {
  const micros = await socketRoundTrips(context.scratch('round-trip'), ROUND_TRIPS, ROUND_TRIP_WARM_UP);
  const at = (p: number): string => percentile(micros, p).toFixed(0);
  context.log(`bare socket round trip: ${micros.length} round trips, p50 ${at(50)} µs, p90 ${at(90)}, p99 ${at(99)}`);
  return micros;
}

// ---- 3: failover ----

interface FailoverRound {
  /** Per surviving client and kill: ms from its last acknowledgement before the failover to its first after. */
  readonly gaps: number[];
  /** Per surviving client and kill: ms from the kill to its first acknowledgement after. */
  readonly fromKill: number[];
  readonly kills: number;
}

/**
 * The longest wait between two consecutive acknowledgements of one member
 * that ends after `killAt` and no later than `nextKillAt`: the wait that
 * spans the failover (the member's own clock; the kill time only picks
 * which wait). Ack-to-ack waits without a failover are a millisecond or
 * so, so the longest in the window is the failover's.
 */
function failoverGap(ackedAt: readonly number[], killAt: number, nextKillAt: number): number | undefined {
  let gap: number | undefined;
  for (let i = 1; i < ackedAt.length; i++) {
    const after = ackedAt[i]!;
    if (after <= killAt) continue;
    if (after > nextKillAt) break;
    gap = Math.max(gap ?? 0, after - ackedAt[i - 1]!);
  }
  return gap;
}

function firstAckAfter(ackedAt: readonly number[], at: number): number | undefined {
  return ackedAt.find((ack) => ack > at);
}

async function failoverRound(context: BenchContext, kills: number): Promise<FailoverRound> {
  const path = join(context.scratch('failover'), 'idx');
  const work: MemberWork = { kind: 'stream', loops: STREAM_LOOPS, pauseMs: STREAM_PAUSE_MS };
  return withGroup(async (group) => {
    let slot = 0;
    const join = (): Member => group.start(siltJob(path, slot++, work), true);
    const first = join();
    await group.until('the first member ready', () => first.state.role !== undefined);
    for (let i = 0; i < CLIENTS; i++) join();
    /** Every live member wrote steadily since the last kill (or since it started), and there is a writer. */
    const steady = (): Promise<void> =>
      group.until('acknowledgements from every member', () => {
        const live = group.live();
        return (
          group.writer() !== undefined &&
          live.every((member) => member.state.role !== undefined && member.acksSinceMark() >= ACKS_BETWEEN_KILLS)
        );
      });
    const killedAt: number[] = [];
    /** When every survivor of each kill had written through the failover: the end of that kill's window. */
    const settledAt: number[] = [];
    const clientsAtKill: Member[][] = [];
    for (let kill = 0; kill < kills; kill++) {
      await steady();
      const writer = group.writer()!;
      clientsAtKill.push(group.live().filter((member) => member !== writer));
      for (const member of group.live()) member.mark();
      const at = monotonicMs();
      killedAt.push(at);
      writer.kill();
      await group.until('a new writer', () => group.writer() !== undefined);
      const tookOver = monotonicMs();
      await steady();
      settledAt.push(monotonicMs());
      if (DEBUG)
        context.log(
          `kill ${kill + 1}: new writer heard of after ${(tookOver - at).toFixed(0)} ms, every survivor wrote again by ${(settledAt.at(-1)! - at).toFixed(0)} ms`,
        );
      // The replacement starts after the failover: a process start is no part of it.
      join();
    }
    await steady();
    const stopped = group.live();
    for (const member of stopped) member.tell({ type: 'stop' });
    await group.until('every member stopped', () => stopped.every((member) => member.state.result !== undefined));
    let uncertain = 0;
    let uncertainWhy = '';
    for (const member of stopped) {
      if (member.state.result?.kind !== 'stream') continue;
      uncertain += member.state.result.uncertain;
      uncertainWhy ||= member.state.result.uncertainWhy ?? '';
    }
    await group.close();

    const gaps: number[] = [];
    const fromKill: number[] = [];
    killedAt.forEach((at, kill) => {
      const next = settledAt[kill]!;
      for (const member of clientsAtKill[kill]!) {
        const gap = failoverGap(member.ackedAt, at, next);
        const after = firstAckAfter(member.ackedAt, at);
        if (gap === undefined || after === undefined || after > next)
          throw new Error(`member ${member.job.slot} had no acknowledgement after kill ${kill + 1}`);
        gaps.push(gap);
        fromKill.push(after - at);
      }
    });
    context.log(
      `failover: ${kills} kills, ${gaps.length} client waits: p50 ${percentile(gaps, 50).toFixed(1)} ms, p99 ${percentile(gaps, 99).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms; kill → first ack p50 ${percentile(fromKill, 50).toFixed(1)} ms; ${uncertain} writes uncertain (WriterChangedError)${uncertainWhy === '' ? '' : `: ${uncertainWhy}`}`,
    );
    return { gaps, fromKill, kills };
  });
}

// ---- rows ----

const SILT_WRITE = 'write (default)';
const SILT_FSYNC = 'fsync (fdatasync per group commit)';
const LMDB = 'lmdb default (ack on commit, fsync follows)';
const PER_CLIENT = LOOPS / CLIENTS;

const ENGINE = {
  alone: `silt, the writer process alone (${LOOPS} loops)`,
  forwarded: `silt, ${CLIENTS} client processes (${PER_CLIENT} loops each) forwarding to an idle writer process`,
  idleClients: `silt, the writer process (${LOOPS} loops) with ${CLIENTS} idle client processes connected`,
  lmdbMany: `lmdb-js, ${CLIENTS} processes (${PER_CLIENT} loops each) writing one env`,
  lmdbOne: `lmdb-js, one process (${LOOPS} loops)`,
  inWriter: 'silt, in the writer process',
  fromClient: 'silt, forwarded from a client process (writer idle in another)',
  roundTrip: 'no store: one byte to another node process over a Unix socket and back (the least forwarding adds)',
  fleet: `silt (role auto): 1 writer + ${CLIENTS} clients, all writing (${STREAM_LOOPS} loops each)`,
};

const WORKLOAD = {
  forwarded: `${count(WRITES)} sets (16 B keys, 100 B values) from ${LOOPS} awaited-set loops: ${CLIENTS} client processes vs the writer alone`,
  manyProcesses: `${count(WRITES)} sets from ${CLIENTS} processes × ${PER_CLIENT} awaited-set loops into one store`,
  oneProcess: `${count(WRITES)} sets from one process × ${LOOPS} awaited-set loops`,
  idleClients: `the writer's own ${count(WRITES)} sets (${LOOPS} loops) with ${CLIENTS} idle client processes connected vs none`,
  readBack: `${count(WRITES)} sets, each read back (get) before the loop's next, from ${LOOPS} loops: ${CLIENTS} client processes vs the writer alone`,
  readBackManyProcesses: `${count(WRITES)} sets, each read back before the loop's next, from ${CLIENTS} processes × ${PER_CLIENT} loops into one store`,
  latency: (stat: string) =>
    `set latency ${stat}, 1 awaited set at a time for ${LATENCY_MS / 1000} s after ${LATENCY_WARM_UP_MS / 1000} s untimed, fsync`,
  failover: (stat: string, kills: number) =>
    `failover ${stat}: a client's last ack from the old writer → its first after, writer SIGKILLed (${kills} kills a round)`,
};

type Part = 'alone' | 'forwarded' | 'idle-clients' | 'lmdb-many' | 'lmdb-one' | 'read-back' | 'latency' | 'failover';
const runs = (part: Part): boolean => ONLY === undefined || ONLY.includes(part);

export const suite: BenchSuite = {
  name: 'fleet',
  async run(context: BenchContext): Promise<BenchRow[]> {
    if (!Number.isInteger(PER_CLIENT) || !Number.isInteger(WRITES / CLIENTS)) {
      throw new Error(`FLEET_BENCH_LOOPS and FLEET_BENCH_WRITES must divide by ${CLIENTS}`);
    }
    const kills = Math.max(MIN_KILLS_PER_ROUND, Math.ceil(MIN_KILLS / context.rounds));
    const none = (): Promise<undefined> => Promise.resolve(undefined);
    const timed =
      <T>(name: string, part: () => Promise<T>) =>
      async (): Promise<T> => {
        const started = monotonicMs();
        const result = await part();
        if (DEBUG) context.log(`${name}: ${((monotonicMs() - started) / 1000).toFixed(1)} s`);
        return result;
      };
    // Interleaved, so load that comes and goes on the shared machine falls on every part alike.
    const results = await interleavedRounds(context.rounds, {
      alone: timed('alone', () => (runs('alone') || runs('forwarded') || runs('idle-clients') ? siltSetsRound(context, 'alone') : none())),
      forwarded: timed('forwarded', () => (runs('forwarded') || runs('lmdb-many') ? siltSetsRound(context, 'forwarded') : none())),
      idleClients: timed('idleClients', () => (runs('idle-clients') ? siltSetsRound(context, 'idle-clients') : none())),
      lmdbMany: timed('lmdbMany', () => (runs('lmdb-many') ? lmdbSetsRound(context, CLIENTS) : none())),
      lmdbOne: timed('lmdbOne', () => (runs('lmdb-one') ? lmdbSetsRound(context, 1) : none())),
      aloneReadBack: timed('aloneReadBack', () => (runs('read-back') ? siltSetsRound(context, 'alone', true) : none())),
      forwardedReadBack: timed('forwardedReadBack', () => (runs('read-back') ? siltSetsRound(context, 'forwarded', true) : none())),
      lmdbManyReadBack: timed('lmdbManyReadBack', () => (runs('read-back') ? lmdbSetsRound(context, CLIENTS, true) : none())),
      inWriter: timed('inWriter', () => (runs('latency') ? latencyRound(context, false) : none())),
      fromClient: timed('fromClient', () => (runs('latency') ? latencyRound(context, true) : none())),
      roundTrip: timed('roundTrip', () => (runs('latency') ? roundTripRound(context) : none())),
      failover: timed('failover', () => (runs('failover') ? failoverRound(context, kills) : none())),
    });
    const defined = <T>(values: ReadonlyArray<T | undefined>): T[] => values.filter((value): value is T => value !== undefined);
    const alone = defined(results.alone);
    const forwarded = defined(results.forwarded);
    const rows: BenchRow[] = [];
    const rate = { unit: 'sets/s' } as const;
    if (runs('forwarded')) {
      rows.push(
        { workload: WORKLOAD.forwarded, engine: ENGINE.alone, durability: SILT_WRITE, ...rate, runs: alone },
        { workload: WORKLOAD.forwarded, engine: ENGINE.forwarded, durability: SILT_WRITE, ...rate, runs: forwarded, ratioTo: ENGINE.alone },
      );
    }
    if (runs('lmdb-many')) {
      rows.push(
        { workload: WORKLOAD.manyProcesses, engine: ENGINE.lmdbMany, durability: LMDB, ...rate, runs: defined(results.lmdbMany) },
        {
          workload: WORKLOAD.manyProcesses,
          engine: ENGINE.forwarded,
          durability: SILT_WRITE,
          ...rate,
          runs: forwarded,
          ratioTo: ENGINE.lmdbMany,
        },
      );
    }
    if (runs('lmdb-one') && alone.length > 0) {
      rows.push(
        { workload: WORKLOAD.oneProcess, engine: ENGINE.lmdbOne, durability: LMDB, ...rate, runs: defined(results.lmdbOne) },
        { workload: WORKLOAD.oneProcess, engine: ENGINE.alone, durability: SILT_WRITE, ...rate, runs: alone, ratioTo: ENGINE.lmdbOne },
      );
    }
    if (runs('idle-clients')) {
      rows.push(
        { workload: WORKLOAD.idleClients, engine: ENGINE.alone, durability: SILT_WRITE, ...rate, runs: alone },
        {
          workload: WORKLOAD.idleClients,
          engine: ENGINE.idleClients,
          durability: SILT_WRITE,
          ...rate,
          runs: defined(results.idleClients),
          ratioTo: ENGINE.alone,
        },
      );
    }
    if (runs('read-back')) {
      const forwardedReadBack = defined(results.forwardedReadBack);
      rows.push(
        { workload: WORKLOAD.readBack, engine: ENGINE.alone, durability: SILT_WRITE, ...rate, runs: defined(results.aloneReadBack) },
        {
          workload: WORKLOAD.readBack,
          engine: ENGINE.forwarded,
          durability: SILT_WRITE,
          ...rate,
          runs: forwardedReadBack,
          ratioTo: ENGINE.alone,
        },
        {
          workload: WORKLOAD.readBackManyProcesses,
          engine: ENGINE.lmdbMany,
          durability: LMDB,
          ...rate,
          runs: defined(results.lmdbManyReadBack),
        },
        {
          workload: WORKLOAD.readBackManyProcesses,
          engine: ENGINE.forwarded,
          durability: SILT_WRITE,
          ...rate,
          runs: forwardedReadBack,
          ratioTo: ENGINE.lmdbMany,
        },
      );
    }
    if (runs('latency')) {
      for (const [stat, percent] of [
        ['p50', 50],
        ['p99', 99],
      ] as const) {
        const common = { workload: WORKLOAD.latency(stat), durability: SILT_FSYNC, unit: 'µs', lowerIsBetter: true };
        rows.push(
          { ...common, engine: ENGINE.inWriter, runs: defined(results.inWriter).map((round) => percentile(round, percent)) },
          {
            ...common,
            engine: ENGINE.fromClient,
            runs: defined(results.fromClient).map((round) => percentile(round, percent)),
            ratioTo: ENGINE.inWriter,
          },
          {
            ...common,
            engine: ENGINE.roundTrip,
            durability: 'none (no store)',
            runs: defined(results.roundTrip).map((round) => percentile(round, percent)),
            reference: true,
          },
        );
      }
    }
    if (runs('failover')) {
      const rounds = defined(results.failover);
      const all = rounds.flatMap((round) => round.gaps);
      context.log(
        `failover over all ${rounds.length * kills} kills: ${all.length} client waits, p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms, max ${Math.max(...all).toFixed(1)} ms; kill → first ack median ${median(rounds.flatMap((round) => round.fromKill)).toFixed(1)} ms`,
      );
      for (const [stat, percent] of [
        ['p50', 50],
        ['p99', 99],
      ] as const) {
        rows.push({
          workload: WORKLOAD.failover(stat, kills),
          engine: ENGINE.fleet,
          durability: SILT_WRITE,
          unit: 'ms',
          runs: rounds.map((round) => percentile(round.gaps, percent)),
          lowerIsBetter: true,
        });
      }
    }
    return rows;
  },
};
