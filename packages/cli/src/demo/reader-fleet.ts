import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isFromReader, type FromReader, type ToReader } from './protocol.js';
import type { DemoWorkload } from './workload.js';

const READER_PROGRAM = fileURLToPath(new URL('./reader-process.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 20;

interface ReaderState {
  readonly child: ChildProcess;
  generation: number;
  refreshes: number;
  /** Probes sent that this reader has not reported visible yet. */
  outstanding: number;
  /** Whether it still writes keys of its own (until told to stop, and done). */
  writing: boolean;
}

/**
 * The demo's reader processes, seen from the writer: forks them (each knows
 * the workload, so it notes when each batch becomes readable there), tells
 * them when each batch's write resolved, and gathers the visibility
 * latencies and generations they report.
 */
export class ReaderFleet {
  readonly latencies = new LatencySamples();
  /** How long the readers' own writes, forwarded to the writer, took to be acknowledged. */
  readonly writeLatencies = new LatencySamples();
  readonly errors: string[] = [];

  private constructor(private readonly readers: readonly ReaderState[]) {
    for (const reader of readers) reader.child.on('message', (message: unknown) => this.receive(reader, message));
  }

  /** Forks `count` readers of `directory`, loaded with `workload`, and waits until each has the index open. */
  static async start(directory: string, count: number, workload: DemoWorkload): Promise<ReaderFleet> {
    const readers: ReaderState[] = [];
    try {
      for (let i = 0; i < count; i++) readers.push(await startReader(directory, workload));
    } catch (error) {
      for (const reader of readers) reader.child.kill('SIGKILL');
      throw error;
    }
    return new ReaderFleet(readers);
  }

  get count(): number {
    return this.readers.length;
  }

  get pids(): number[] {
    return this.readers.map((reader) => reader.child.pid ?? 0);
  }

  /** Refreshes the readers have made, all together. */
  get refreshes(): number {
    return this.readers.reduce((sum, reader) => sum + reader.refreshes, 0);
  }

  /** Batch `batch` was acknowledged (its `mset` resolved) at `writtenAt`, wall clock. */
  probe(batch: number, writtenAt: number): void {
    for (const reader of this.readers) {
      if (!reader.child.connected) continue;
      reader.outstanding++;
      send(reader.child, { type: 'probe', batch, writtenAt });
    }
  }

  /** Waits until every reader saw every probe and serves `generation` or newer; false on timeout. */
  async caughtUp(generation: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const done = (): boolean =>
      this.readers.every((reader) => !reader.child.connected || (reader.outstanding === 0 && reader.generation >= generation));
    while (!done() && performance.now() < deadline && !signal.aborted) await sleep(POLL_MS);
    return done();
  }

  /** Asks every reader to stop writing keys of its own, and waits until each did; false on timeout. */
  async stopWriting(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    for (const reader of this.readers) if (reader.child.connected) send(reader.child, { type: 'stopWriting' });
    const deadline = performance.now() + timeoutMs;
    const done = (): boolean => this.readers.every((reader) => !reader.child.connected || !reader.writing);
    while (!done() && performance.now() < deadline && !signal.aborted) await sleep(POLL_MS);
    return done();
  }

  /** Asks every reader to close and waits for it to exit; one that does not is killed. */
  async stop(): Promise<void> {
    await Promise.all(this.readers.map((reader) => stopReader(reader.child)));
  }

  private receive(reader: ReaderState, message: unknown): void {
    if (!isFromReader(message)) return;
    if (message.type === 'error') {
      this.errors.push(`reader ${reader.child.pid}: ${message.message}`);
      return;
    }
    if (message.type === 'ready') return;
    if (message.type === 'stoppedWriting') {
      reader.writing = false;
      return;
    }
    if (message.type === 'wrote') {
      this.writeLatencies.add(message.latenciesMs);
      return;
    }
    if (message.type === 'refresh') {
      reader.generation = Math.max(reader.generation, message.generation);
      reader.refreshes++;
    }
    reader.outstanding -= message.latenciesMs.length;
    this.latencies.add(message.latenciesMs);
  }
}

async function startReader(directory: string, workload: DemoWorkload): Promise<ReaderState> {
  const args = [directory, String(workload.keys), String(workload.batchSize)];
  const child = fork(READER_PROGRAM, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await firstMessage(child);
  if (ready.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`a reader process could not open the index: ${ready.type === 'error' ? ready.message : ready.type}`);
  }
  return { child, generation: ready.generation, refreshes: 0, outstanding: 0, writing: true };
}

function firstMessage(child: ChildProcess): Promise<FromReader> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`a reader process did not start within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onMessage = (message: unknown): void => {
      if (isFromReader(message)) finish(message);
    };
    const onExit = (code: number | null): void => finish(new Error(`a reader process exited (code ${code}) before it opened the index`));
    const finish = (result: FromReader | Error): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** A reader that died mid-demo is missing from the figures, not a reason to stop the writer: send errors are dropped. */
function send(child: ChildProcess, message: ToReader): void {
  child.send(message, () => undefined);
}

async function stopReader(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) send(child, { type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Latency samples and their percentiles, for the demo's readers. */
export class LatencySamples {
  private readonly samples: number[] = [];
  private sorted = true;

  add(values: readonly number[]): void {
    if (values.length === 0) return;
    this.samples.push(...values);
    this.sorted = false;
  }

  get count(): number {
    return this.samples.length;
  }

  /** The nearest-rank percentile (0 < p ≤ 100), or undefined without samples. */
  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    if (!this.sorted) {
      this.samples.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.min(this.samples.length, Math.max(1, Math.ceil((p / 100) * this.samples.length)));
    return this.samples[rank - 1];
  }
}
