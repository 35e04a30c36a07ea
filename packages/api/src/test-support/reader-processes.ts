import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ReaderConfig, ReaderMessage, ReaderRequest, WriterConfigInput } from './reader-protocol.js';

const READER_CHILD = fileURLToPath(new URL('./reader-child.js', import.meta.url));
const WRITER_CHILD = fileURLToPath(new URL('./writer-for-readers.js', import.meta.url));
/** A child that takes longer than this to get ready or to answer is stuck: a failure, not a wait. */
const STUCK_AFTER_MS = 60_000;

type Report = Extract<ReaderMessage, { type: 'report' }>;
type Expected = Extract<ReaderMessage, { type: 'expected' }>;
type CaughtUp = Extract<ReaderMessage, { type: 'caughtUp' }>;

/** What a writer child said when it was ready. */
export interface WriterReady {
  readonly generation: number;
  /** The last sequence number its recovery kept. */
  readonly lastSequence: number;
  /** The highest write number in the index it recovered (0: none): every write of the last life up to it survived. */
  readonly recoveredMax: number;
}

/** Rejects after STUCK_AFTER_MS with `what`; the timer keeps the test's process alive meanwhile. */
function withDeadline<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${STUCK_AFTER_MS} ms`)), STUCK_AFTER_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

/** A reader child, seen from the parent: its last report, its failures, and requests to it. */
export class ReaderProcess {
  readonly failures: string[] = [];
  /** Every write number its reads returned, as far as it reported before it closed or was killed. */
  readonly seen = new Set<number>();
  private lastReport: Report | undefined;
  private readonly reportWaiters: Array<(report: Report) => boolean> = [];
  private generationWhenReady = -1;
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ resolve: (message: ReaderMessage) => void; reject: (error: Error) => void }> = [];
  private stderr = '';

  private constructor(config: ReaderConfig) {
    this.child = fork(READER_CHILD, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.on('message', (message: ReaderMessage) => {
      if (message.type === 'report') this.took(message);
      else if (message.type === 'failure') this.failures.push(message.error);
      else this.waiting.shift()?.resolve(message);
    });
    this.child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) this.failures.push(`reader ${this.pid} exited with ${code ?? signal}: ${this.stderr}`);
      const gone = new Error(`reader ${this.pid} exited: ${this.failures.join('\n') || this.stderr}`);
      for (const waiter of this.waiting.splice(0)) waiter.reject(gone);
    });
  }

  static async start(config: ReaderConfig): Promise<ReaderProcess> {
    const reader = new ReaderProcess({ ...config, deferOpen: false });
    await reader.opened();
    return reader;
  }

  /** A reader process started ahead: loaded, with the index not opened until `open()`. */
  static load(config: ReaderConfig): ReaderProcess {
    return new ReaderProcess({ ...config, deferOpen: true });
  }

  /** Opens the index in a reader made by `load`; resolves once it serves a generation. */
  async open(): Promise<ReaderProcess> {
    this.send({ type: 'open' });
    await this.opened();
    return this;
  }

  private async opened(): Promise<void> {
    const ready = await withDeadline(`reader ${this.pid} opening`, this.next());
    if (ready.type !== 'ready') throw new Error(`reader ${this.pid} sent ${JSON.stringify(ready)} instead of ready`);
    this.generationWhenReady = ready.generation;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The reader's last report, if it sent one. */
  get last(): Report | undefined {
    return this.lastReport;
  }

  /** The generation the reader opened at. */
  get readyGeneration(): number {
    return this.generationWhenReady;
  }

  /** Resolves with the first report (from now on) that `accepts`; fails if the reader exits first or takes STUCK_AFTER_MS. */
  nextReport(accepts: (report: Report) => boolean, what: string): Promise<Report> {
    const waiting = new Promise<Report>((resolve, reject) => {
      const waiter = (report: Report): boolean => {
        if (!accepts(report)) return false;
        resolve(report);
        return true;
      };
      this.reportWaiters.push(waiter);
      this.child.once('exit', () => reject(new Error(`reader ${this.pid} exited before ${what}: ${this.failures.join('\n')}`)));
    });
    return withDeadline(`reader ${this.pid} reporting ${what}`, waiting);
  }

  /** Waits until the reader's own events show, for every key `keyOf(slot)`, a write numbered at least `floor[slot]`. */
  async catchUp(floor: readonly number[]): Promise<CaughtUp> {
    const answer = this.next();
    this.send({ type: 'catchUp', floor });
    const message = await withDeadline(`reader ${this.pid} catching up`, answer);
    if (message.type !== 'caughtUp') throw new Error(`reader ${this.pid} sent ${JSON.stringify(message)}`);
    return message;
  }

  /** Asks whether `key` = `value`, after refresh() or once the reader's watch brings it in. */
  async expect(key: string, value: string, refresh: boolean): Promise<Expected> {
    const answer = this.next();
    this.send({ type: 'expect', key, value, refresh });
    const message = await withDeadline(`reader ${this.pid} waiting for ${key}`, answer);
    if (message.type !== 'expected') throw new Error(`reader ${this.pid} sent ${JSON.stringify(message)}`);
    return message;
  }

  async close(): Promise<void> {
    const closed = this.next();
    this.send({ type: 'close' });
    await withDeadline(`reader ${this.pid} closing`, closed);
    await withDeadline(`reader ${this.pid} exiting`, waitForExit(this.child));
  }

  /** SIGKILL, and resolves once the process is reaped (a zombie would still count as alive for its lease). */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await waitForExit(this.child);
  }

  private took(report: Report): void {
    this.lastReport = report;
    for (const n of report.seen) this.seen.add(n);
    for (let i = 0; i < this.reportWaiters.length;) {
      if (this.reportWaiters[i]!(report)) this.reportWaiters.splice(i, 1);
      else i++;
    }
  }

  private send(request: ReaderRequest): void {
    if (!this.child.connected) throw new Error(`reader ${this.pid} is gone: ${this.failures.join('\n') || this.stderr}`);
    this.child.send(request);
  }

  private next(): Promise<ReaderMessage> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

/** A writer child, seen from the parent: how far it got. */
export class WriterProcess {
  /** Resolves once the child opened the index; rejects if it exits before. */
  private readonly opened: Promise<WriterReady>;
  /** Resolves once the writer's first forced merge committed; rejects if it exits before. */
  readonly firstMerge: Promise<void>;
  private readonly child: ChildProcess;
  private partial = '';
  private stderr = '';
  private killed = false;
  private highestIssued: number;
  private highestAcked: number;
  private mergesSeen = 0;
  private flushesSeen = 0;
  private flushedTo = 0;
  private readonly ackWaiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly issueWaiters: Array<{ n: number; resolve: () => void }> = [];
  /** Once it exited and its output was read to the end. */
  private readonly closed: Promise<unknown>;

  /** With `firstN` 0, the child loads and waits for `go(firstN)` before it opens the index. */
  constructor(config: WriterConfigInput) {
    this.highestIssued = config.firstN - 1;
    this.highestAcked = config.firstN - 1;
    const stdin = config.firstN === 0 ? 'pipe' : 'ignore';
    this.child = spawn(process.execPath, [WRITER_CHILD, JSON.stringify(config)], { stdio: [stdin, 'pipe', 'pipe'] });
    this.closed = once(this.child, 'close');
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let readyGeneration: (ready: WriterReady) => void = () => undefined;
    this.opened = new Promise<WriterReady>((resolve, reject) => {
      readyGeneration = resolve;
      this.child.once('exit', () => reject(new Error(`writer exited before it was ready: ${this.stderr}`)));
    });
    // A spare killed unused never opens: only a caller of `ready` cares.
    this.opened.catch(() => undefined);
    let merged: () => void = () => undefined;
    this.firstMerge = new Promise<void>((resolve, reject) => {
      merged = resolve;
      this.child.once('exit', () => reject(new Error(`writer exited before its first merge: ${this.stderr}`)));
    });
    // Only a caller that waits for it cares: a life killed before it merged is no failure by itself.
    this.firstMerge.catch(() => undefined);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        const [tag, value, ...more] = line.split(' ');
        if (tag === 'ready') readyGeneration({ generation: Number(value), lastSequence: Number(more[0]), recoveredMax: Number(more[1]) });
        else if (tag === 'i') this.issued(Number(value));
        else if (tag === 'a') this.acknowledged(Number(value));
        else if (tag === 'f') {
          this.flushesSeen++;
          this.flushedTo = Math.max(this.flushedTo, Number(value));
        } else if (tag === 'm') {
          this.mergesSeen++;
          merged();
        }
      }
    });
  }

  /** Resolves once the index is open (fails if it takes STUCK_AFTER_MS from now). */
  get ready(): Promise<WriterReady> {
    return withDeadline('writer opening', this.opened);
  }

  /** Tells a writer made with `firstN` 0 to open the index and write from `firstN` on; resolves once it is open. */
  go(firstN: number): Promise<WriterReady> {
    this.highestIssued = firstN - 1;
    this.highestAcked = firstN - 1;
    this.child.stdin!.end(`go ${firstN}\n`);
    return this.ready;
  }

  /** Highest write number acknowledged: every write of this life up to it resolved (the child prints it after). */
  get lastAcked(): number {
    return this.highestAcked;
  }

  /** Flushes committed in this life (the recovery's too), and the log sequence the newest of them covers. */
  get flushes(): { readonly count: number; readonly coveredSequence: number } {
    return { count: this.flushesSeen, coveredSequence: this.flushedTo };
  }

  /** Resolves once write `n` is acknowledged; fails if the writer dies first or takes STUCK_AFTER_MS. */
  acknowledgedUpTo(n: number): Promise<void> {
    if (this.highestAcked >= n) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => {
      this.ackWaiters.push({ n, resolve });
      this.child.once('exit', () => reject(new Error(`writer exited before write ${n} was acknowledged: ${this.stderr}`)));
    });
    return withDeadline(`writer acknowledging write ${n}`, waiting);
  }

  /** Highest write number issued (the child prints it before issuing). */
  get lastIssued(): number {
    return this.highestIssued;
  }

  get merges(): number {
    return this.mergesSeen;
  }

  /** Why it died, if not by our SIGKILL. */
  get failure(): string | undefined {
    if (this.killed || this.child.exitCode === null) return undefined;
    return `writer exited with ${this.child.exitCode}: ${this.stderr}`;
  }

  /** Resolves once a write past `n` was issued (the child prints it just before issuing); fails if the writer dies first. */
  issuedPast(n: number): Promise<void> {
    if (this.highestIssued > n) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => {
      this.issueWaiters.push({ n, resolve });
      this.child.once('exit', () => reject(new Error(`writer exited before it issued a write past ${n}: ${this.stderr}`)));
    });
    return withDeadline(`writer issuing past write ${n}`, waiting);
  }

  private issued(n: number): void {
    this.highestIssued = Math.max(this.highestIssued, n);
    for (let i = 0; i < this.issueWaiters.length;) {
      if (this.issueWaiters[i]!.n >= n) i++;
      else this.issueWaiters.splice(i, 1)[0]!.resolve();
    }
  }

  private acknowledged(n: number): void {
    this.highestAcked = Math.max(this.highestAcked, n);
    for (let i = 0; i < this.ackWaiters.length;) {
      if (this.ackWaiters[i]!.n > n) i++;
      else this.ackWaiters.splice(i, 1)[0]!.resolve();
    }
  }

  /** SIGKILL; resolves once it is reaped and every line it printed has been read. */
  async kill(): Promise<void> {
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.closed;
  }
}
