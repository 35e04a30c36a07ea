import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ChildProgress, type ChildConfig } from './crash-child-protocol.js';
import { SubscriberOutput, type SubscriberConfig } from './feed-subscriber-protocol.js';

/**
 * The processes of the change feed's process test, seen from the parent:
 * the crash test's writer child, and feed subscribers. Each is SIGKILLed by
 * the parent only; any other end is a failure. Waits are for conditions
 * (a line printed), with a deadline past which the child counts as stuck.
 */

const WRITER_CHILD = fileURLToPath(new URL('./crash-writer-child.js', import.meta.url));
const SUBSCRIBER_CHILD = fileURLToPath(new URL('./feed-subscriber-child.js', import.meta.url));
/** A child that gets nowhere for this long is stuck: a failure, not a wait. */
const STUCK_AFTER_MS = 60_000;

type Child = ChildProcessByStdio<Writable | null, Readable, Readable>;

/** A child process whose stdout a parser reads, and whose conditions the parent waits for. */
class ObservedChild {
  private stderr = '';
  private failure: Error | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly closed: Promise<void>;
  private killed = false;

  constructor(
    private readonly name: string,
    private readonly child: Child,
    feed: (chunk: string) => void,
  ) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      try {
        feed(chunk);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
      }
      this.notify();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.closed = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        if (!this.killed || signal !== 'SIGKILL') this.fail(new Error(`${this.name} exited with ${code ?? signal}: ${this.stderr}`));
        this.notify();
        resolve();
      });
    });
  }

  /** Resolves once `condition()` holds; rejects if the child fails or exits first, or after STUCK_AFTER_MS. */
  async until(what: string, condition: () => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let check = (): void => undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        check = (): void => {
          if (this.failure !== undefined) reject(this.failure);
          else if (condition()) resolve();
        };
        timer = setTimeout(
          () => reject(new Error(`${this.name}: no ${what} after ${STUCK_AFTER_MS} ms; stderr: ${this.stderr}`)),
          STUCK_AFTER_MS,
        );
        this.waiters.add(check);
        check();
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(check);
    }
  }

  /** SIGKILLs the child and resolves once its output is all read. */
  async kill(): Promise<void> {
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.closed;
    if (this.failure !== undefined) throw this.failure;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    if (!this.killed) this.child.kill('SIGKILL');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The crash test's writer child (crash-writer-child.ts): writes the crash workload until killed. */
export class WriterProcess {
  readonly progress = new ChildProgress();
  private readonly observed: ObservedChild;

  private constructor(config: ChildConfig) {
    const child = spawn(process.execPath, [WRITER_CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.observed = new ObservedChild(`writer ${child.pid}`, child, (chunk) => this.progress.feed(chunk));
  }

  static async start(config: ChildConfig): Promise<WriterProcess> {
    const writer = new WriterProcess(config);
    await writer.observed.until('ready', () => writer.progress.ready);
    return writer;
  }

  until(what: string, condition: (progress: ChildProgress) => boolean): Promise<void> {
    return this.observed.until(what, () => condition(this.progress));
  }

  kill(): Promise<void> {
    return this.observed.kill();
  }
}

/**
 * A feed subscriber child (feed-subscriber-child.ts). Started ahead
 * (`load`), it subscribes when told (`subscribe`), within milliseconds:
 * a process start and its imports take hundreds.
 */
export class SubscriberProcess {
  readonly output = new SubscriberOutput();
  private readonly observed: ObservedChild;
  private readonly stdin: Writable;
  private startedAfter: number | undefined;

  private constructor(readonly config: SubscriberConfig) {
    const child = spawn(process.execPath, [SUBSCRIBER_CHILD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stdin = child.stdin;
    // A child killed before it read its input: nothing to report beyond the exit.
    this.stdin.on('error', () => undefined);
    this.observed = new ObservedChild(`subscriber ${child.pid}`, child, (chunk) => this.output.feed(chunk));
  }

  /** A subscriber child with its modules loaded, waiting for `subscribe`. */
  static async load(config: SubscriberConfig): Promise<SubscriberProcess> {
    const subscriber = new SubscriberProcess(config);
    await subscriber.observed.until('loaded', () => subscriber.output.loaded);
    return subscriber;
  }

  /** Where it was told to start: after this sequence number, or undefined for now. */
  get since(): number | undefined {
    return this.startedAfter;
  }

  /** Subscribes after `since` (or from now on) and resolves once it has. */
  async subscribe(since: number | undefined): Promise<this> {
    this.startedAfter = since;
    this.stdin.write(since === undefined ? 'now\n' : `since ${since}\n`);
    await this.observed.until('ready', () => this.output.current !== undefined);
    return this;
  }

  /** Resolves once every change up to `sequence` was printed. */
  reach(sequence: number): Promise<void> {
    return this.observed.until(`position ${sequence}`, () => this.output.position >= sequence);
  }

  kill(): Promise<void> {
    return this.observed.kill();
  }
}
