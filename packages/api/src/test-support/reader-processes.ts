import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ReaderConfig, ReaderMessage, ReaderRequest, WriterConfig } from './reader-protocol.js';

const READER_CHILD = fileURLToPath(new URL('./reader-child.js', import.meta.url));
const WRITER_CHILD = fileURLToPath(new URL('./writer-for-readers.js', import.meta.url));
/** A child that takes longer than this to get ready or to answer is stuck: a failure, not a wait. */
const STUCK_AFTER_MS = 60_000;

type Report = Extract<ReaderMessage, { type: 'report' }>;
type Expected = Extract<ReaderMessage, { type: 'expected' }>;

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
  private lastReport: Report | undefined;
  private generationWhenReady = -1;
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ resolve: (message: ReaderMessage) => void; reject: (error: Error) => void }> = [];
  private stderr = '';

  private constructor(config: ReaderConfig) {
    this.child = fork(READER_CHILD, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.on('message', (message: ReaderMessage) => {
      if (message.type === 'report') this.lastReport = message;
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
    const reader = new ReaderProcess(config);
    const ready = await withDeadline(`reader ${reader.pid} opening`, reader.next());
    if (ready.type !== 'ready') throw new Error(`reader ${reader.pid} sent ${JSON.stringify(ready)} instead of ready`);
    reader.generationWhenReady = ready.generation;
    return reader;
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
  readonly ready: Promise<number>;
  /** Resolves once the writer's first forced merge committed; rejects if it exits before. */
  readonly firstMerge: Promise<void>;
  private readonly child: ChildProcess;
  private partial = '';
  private stderr = '';
  private killed = false;
  private highestIssued: number;
  private mergesSeen = 0;

  constructor(config: WriterConfig) {
    this.highestIssued = config.firstN - 1;
    this.child = spawn(process.execPath, [WRITER_CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let readyGeneration: (generation: number) => void = () => undefined;
    this.ready = withDeadline(
      'writer opening',
      new Promise<number>((resolve, reject) => {
        readyGeneration = resolve;
        this.child.once('exit', () => reject(new Error(`writer exited before it was ready: ${this.stderr}`)));
      }),
    );
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
        const [tag, value] = line.split(' ');
        if (tag === 'ready') readyGeneration(Number(value));
        else if (tag === 'i') this.highestIssued = Math.max(this.highestIssued, Number(value));
        else if (tag === 'm') {
          this.mergesSeen++;
          merged();
        }
      }
    });
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

  /** SIGKILL; resolves once it is reaped and every line it printed has been read. */
  async kill(): Promise<void> {
    this.killed = true;
    const closed = once(this.child, 'close');
    this.child.kill('SIGKILL');
    await closed;
  }
}
