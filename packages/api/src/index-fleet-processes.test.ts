import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { batchOf, BATCH_KEYS, FINAL_KEY_PREFIX, type FromMember, type MemberConfig, type ToMember } from './test-support/fleet-protocol.js';

/*
 * Four processes open one index with the default role and write at once;
 * the test SIGKILLs whichever of them is the writer, again and again, and
 * starts a new member in its place. Every member checks it reads each of
 * its writes as soon as it is acknowledged. At the end: no acknowledged
 * write is lost, every batch is whole or absent, and every member's reads
 * agree with each other and with the index reopened.
 */

const SOAK = process.env.SOAK === '1';
const KILLS = SOAK ? 1000 : 50;
const MEMBERS = 4;
/** Writes every live member must have acknowledged between two kills: the writer dies under load, not in a lull. */
const ACKS_BETWEEN_KILLS = 20;
const STUCK_AFTER_MS = 60_000;
const MEMBER_CHILD = fileURLToPath(new URL('./test-support/fleet-member-child.js', import.meta.url));

/** What the test knows of a member, as its messages and its exit tell it. */
interface MemberState {
  role: string | undefined;
  acked: number;
  stopped: boolean;
  closed: boolean;
  digest: { digest: string; keys: number } | undefined;
  exited: boolean;
  killed: boolean;
}

class Member {
  readonly process: ChildProcess;
  readonly state: MemberState = {
    role: undefined,
    acked: 0,
    stopped: false,
    closed: false,
    digest: undefined,
    exited: false,
    killed: false,
  };

  constructor(
    readonly config: MemberConfig,
    private readonly fleet: Fleet,
  ) {
    this.process = fork(MEMBER_CHILD, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    this.process.on('message', (message: FromMember) => fleet.hear(this, message));
    this.process.on('exit', (code, signal) => {
      this.state.exited = true;
      if (!this.state.killed && !(this.state.closed && code === 0))
        fleet.fail(`member ${config.slot}/${config.incarnation} exited with ${code ?? signal}: ${stderr}`);
      fleet.notify();
    });
  }

  tell(message: ToMember): void {
    this.process.send(message);
  }

  kill(): void {
    this.state.killed = true;
    this.process.kill('SIGKILL');
  }
}

class Fleet {
  readonly members: Member[] = [];
  /** Every write a member reported acknowledged: key → value. */
  readonly acknowledged = new Map<string, string>();
  readonly uncertain = new Set<string>();
  readonly violations: string[] = [];
  /** Milliseconds from a writer's kill to the next acknowledgement any member heard. */
  readonly failovers: number[] = [];
  private killedAt: number | undefined;
  private failure: string | undefined;
  private readonly waiters = new Set<() => void>();
  private incarnations = 0;

  constructor(private readonly directory: string) {}

  start(slot: number): Member {
    const member = new Member({ directory: this.directory, slot, incarnation: this.incarnations++, concurrency: 2 }, this);
    this.members[slot] = member;
    return member;
  }

  get writer(): Member | undefined {
    return this.members.find((member) => !member.state.exited && !member.state.killed && member.state.role === 'writer');
  }

  hear(member: Member, message: FromMember): void {
    switch (message.type) {
      case 'ready':
        member.state.role = message.role;
        break;
      case 'role':
        member.state.role = message.role;
        break;
      case 'acked':
        if (message.writes.length > 0 && this.killedAt !== undefined) {
          this.failovers.push(performance.now() - this.killedAt);
          this.killedAt = undefined;
        }
        for (const [key, value] of message.writes) this.acknowledged.set(key, value);
        member.state.acked += message.writes.length;
        break;
      case 'uncertain':
        for (const key of message.keys) this.uncertain.add(key);
        break;
      case 'violation':
        this.violations.push(`member ${member.config.slot}/${member.config.incarnation}: ${message.message}`);
        break;
      case 'stopped':
        member.state.stopped = true;
        break;
      case 'digest':
        member.state.digest = { digest: message.digest, keys: message.keys };
        break;
      case 'closed':
        member.state.closed = true;
        break;
    }
    this.notify();
  }

  killWriter(): Member {
    const writer = this.writer!;
    this.killedAt = performance.now();
    writer.kill();
    return writer;
  }

  fail(message: string): void {
    this.failure ??= message;
  }

  notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves once `condition()` holds; rejects if a member failed, or after STUCK_AFTER_MS (stuck, not slow). */
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
        timer = setTimeout(() => reject(new Error(`stuck waiting for ${what}`)), STUCK_AFTER_MS);
        check();
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(check);
    }
  }

  live(): Member[] {
    return this.members.filter((member) => !member.state.killed);
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

test(
  `${MEMBERS} processes write one index at once while the writer is SIGKILLed ${KILLS} times: no acknowledged write lost, batches whole, reads agree`,
  { timeout: SOAK ? Number.POSITIVE_INFINITY : 600_000 },
  async (t) => {
    const directory = join(tempDir('fleet'), 'idx');
    const fleet = new Fleet(directory);
    try {
      fleet.start(0);
      await fleet.until('the first member', () => fleet.members[0]!.state.role !== undefined);
      for (let slot = 1; slot < MEMBERS; slot++) fleet.start(slot);
      await fleet.until('every member ready', () => fleet.live().every((member) => member.state.role !== undefined));
      for (let kill = 0; kill < KILLS; kill++) {
        // Members still starting are left out: a process start takes longer than a failover, and the next kill need not wait for it.
        const targets = fleet
          .live()
          .filter((member) => member.state.role !== undefined)
          .map((member) => [member, member.state.acked + ACKS_BETWEEN_KILLS] as const);
        await fleet.until(
          `writes before kill ${kill + 1}`,
          () => targets.every(([member, acked]) => member.state.acked >= acked) && fleet.writer !== undefined,
        );
        const killed = fleet.killWriter();
        fleet.start(killed.config.slot);
        await fleet.until(`a new writer after kill ${kill + 1}`, () => fleet.writer !== undefined);
      }
      await fleet.until('every member ready', () => fleet.live().every((member) => member.state.role !== undefined));
      for (const member of fleet.live()) member.tell({ type: 'stop' });
      await fleet.until('every member stopped', () => fleet.live().every((member) => member.state.stopped));
      for (const member of fleet.live()) member.tell({ type: 'final' });
      await fleet.until('every digest', () => fleet.live().every((member) => member.state.digest !== undefined));
      for (const member of fleet.live()) member.tell({ type: 'close' });
      await fleet.until('every member closed', () => fleet.live().every((member) => member.state.exited));
    } finally {
      for (const member of fleet.members) if (!member.state.exited) member.kill();
    }
    assert.deepEqual(fleet.violations, []);
    const index = await Index.open(directory, { valueEncoding: 'utf8', keyEncoding: 'utf8', role: 'writer' });
    try {
      const contents = new Map(index.range());
      const lost = [...fleet.acknowledged].filter(([key, value]) => contents.get(key) !== value);
      assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged writes lost`);
      const batches = new Map<string, number>();
      for (const key of contents.keys()) {
        const batch = batchOf(key);
        if (batch !== undefined) batches.set(batch, (batches.get(batch) ?? 0) + 1);
      }
      const torn = [...batches].filter(([, keys]) => keys !== BATCH_KEYS);
      assert.deepEqual(torn, [], 'every batch is whole or absent');
      const hash = createHash('sha256');
      let keys = 0;
      for (const [key, value] of contents) {
        if (key.startsWith(FINAL_KEY_PREFIX)) continue;
        hash.update(`${key}\u0000${value}\u0000`);
        keys++;
      }
      const expected = { digest: hash.digest('hex'), keys };
      for (const member of fleet.live())
        assert.deepEqual(member.state.digest, expected, `member ${member.config.slot} converged on the index's contents`);
      t.diagnostic(
        `${fleet.acknowledged.size} acknowledged writes kept, ${fleet.uncertain.size} uncertain; failover p50 ${percentile(fleet.failovers, 50).toFixed(0)} ms, p99 ${percentile(fleet.failovers, 99).toFixed(0)} ms over ${fleet.failovers.length} kills`,
      );
    } finally {
      await index.close();
    }
  },
);
