import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ClosedError, ValidationError, nodeFileSystem, type FileSystem } from '@silt/fs';
import { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';
import {
  MergeAbortedError,
  checkMergeRequest,
  mergeSegments,
  removePartialOutput,
  type MergeRequest,
  type MergeResult,
} from './segment-merge.js';
import { unwrapOutcome, type TaskOutcome } from './task-outcome.js';

export interface SegmentWorkerPoolOptions {
  /**
   * Run tasks on this thread with this file system instead of in worker
   * threads: for tests whose simulated file system cannot cross threads.
   */
  readonly inProcessFs?: FileSystem;
  /**
   * Merges that may run at once, each on a thread of its own. Default: half
   * the cores (at least 1), so merges leave the rest to the writer, its
   * flushes and readers in other processes.
   */
  readonly mergeThreads?: number;
}

export interface MergeTaskOptions {
  /** Aborting terminates the merge's thread; the promise rejects with `MergeAbortedError` once the partial output is gone. */
  readonly signal?: AbortSignal;
}

/** A merge in progress, so that an abort can wait for its thread and `close()` can abort it. */
interface PooledMerge {
  readonly controller: AbortController;
  /** Resolves once every thread terminated by this merge's abort has exited, so nothing can write its output any more. */
  terminated: Promise<void>;
  settled: Promise<unknown>;
}

const WORKER_URL = new URL('./segment-worker-entry.cjs', import.meta.url).href;

export function defaultMergeThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/**
 * The worker threads that build segments. Flushes and merges get pools of
 * their own so that a flush never waits behind a merge: a stalled flush
 * would stall the writer once memtables pile up.
 */
export class SegmentWorkerPool {
  private readonly flushPool: Piscina | undefined;
  private readonly mergePool: Piscina | undefined;
  private readonly fs: FileSystem;
  private readonly running = new Set<PooledMerge>();
  private closed = false;

  constructor(private readonly options: SegmentWorkerPoolOptions = {}) {
    const mergeThreads = options.mergeThreads ?? defaultMergeThreads();
    if (!Number.isSafeInteger(mergeThreads) || mergeThreads < 1) {
      throw new ValidationError(`mergeThreads must be a whole number of at least 1, got ${String(mergeThreads)}`);
    }
    this.fs = options.inProcessFs ?? nodeFileSystem;
    if (options.inProcessFs === undefined) {
      // idleTimeout keeps the thread warm between flushes (one a second by default).
      // `name` is the task a thread preloads at start (piscina's 'default' is not exported). The file
      // is a CommonJS entry: see segment-worker-entry.cts for why piscina must not require() our ESM.
      this.flushPool = new Piscina({ filename: WORKER_URL, name: 'flush', minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
      // Merge threads start on demand: an index that never merges pays nothing for them.
      this.mergePool = new Piscina({ filename: WORKER_URL, name: 'merge', minThreads: 0, maxThreads: mergeThreads, idleTimeout: 60_000 });
      this.mergePool.on('error', ignoreStrayResult);
      this.flushPool.on('error', ignoreStrayResult);
    }
  }

  async flush(request: FlushRequest): Promise<FlushResult> {
    if (this.closed) throw new ClosedError('the segment worker pool');
    if (this.flushPool === undefined) return buildSegmentFromLog(this.fs, request);
    return unwrapOutcome((await this.flushPool.run(request, { name: 'flush' })) as TaskOutcome<FlushResult>);
  }

  /**
   * Merges a contiguous run into one segment (see `mergeSegments`), at most
   * `mergeThreads` at once; later ones queue. Whether it fails, throws in
   * the worker or is aborted, the output file is gone when it rejects.
   */
  merge(request: MergeRequest, options: MergeTaskOptions = {}): Promise<MergeResult> {
    if (this.closed) return Promise.reject(new ClosedError('the segment worker pool'));
    const running: PooledMerge = { controller: new AbortController(), terminated: Promise.resolve(), settled: Promise.resolve() };
    const merged = this.runMerge(request, running, options.signal);
    running.settled = merged.catch(() => undefined);
    return merged;
  }

  /** Aborts running merges (their outputs removed), then stops every thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const merges = [...this.running];
    for (const merge of merges) this.abort(merge, new ClosedError('the segment worker pool'));
    await Promise.all(merges.map((merge) => merge.settled));
    await Promise.all([this.flushPool?.destroy(), this.mergePool?.destroy()]);
  }

  private async runMerge(request: MergeRequest, running: PooledMerge, signal: AbortSignal | undefined): Promise<MergeResult> {
    // Before anything runs: a bad request or an existing output is refused, and nothing is removed.
    checkMergeRequest(this.fs, request);
    if (signal?.aborted === true) throw new MergeAbortedError(request.outputPath, signal.reason);
    const onAbort = (): void => this.abort(running, signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.running.add(running);
    const aborted = running.controller.signal;
    try {
      const result = await this.dispatchMerge(request, aborted);
      // Aborted after it finished: the caller has given up on the file.
      if (aborted.aborted) throw new MergeAbortedError(request.outputPath, aborted.reason);
      return result;
    } catch (error) {
      await running.terminated;
      await removePartialOutput(this.fs, request.outputPath);
      if (!aborted.aborted || error instanceof MergeAbortedError) throw error;
      throw new MergeAbortedError(request.outputPath, aborted.reason, { cause: error });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running.delete(running);
    }
  }

  private async dispatchMerge(request: MergeRequest, signal: AbortSignal): Promise<MergeResult> {
    if (this.mergePool === undefined) return mergeSegments(this.fs, request, { signal });
    return unwrapOutcome((await this.mergePool.run(request, { name: 'merge', signal })) as TaskOutcome<MergeResult>);
  }

  /**
   * piscina terminates a running task's thread on abort and rejects at
   * once, before the thread has stopped: it could still create or write the
   * output. So note which threads the abort removed, and let cleanup wait
   * for them to exit.
   */
  private abort(running: PooledMerge, reason: unknown): void {
    if (running.controller.signal.aborted) return;
    const pool = this.mergePool;
    const before = pool?.threads ?? [];
    running.controller.abort(reason);
    const terminated = before.filter((thread) => !pool!.threads.includes(thread));
    running.terminated = Promise.all(terminated.map(exitOf)).then(() => undefined);
  }
}

/**
 * A merge aborted just as its thread posted the result leaves piscina holding
 * a result for a task it already rejected, which it emits as an 'error' (and,
 * with no listener, as an uncaught exception). The abort path has removed the
 * output, so that result is stale. Anything else piscina reports is rethrown.
 */
function ignoreStrayResult(error: unknown): void {
  if (error instanceof Error && error.message.startsWith('Unexpected message from Worker')) return;
  throw error;
}

function exitOf(thread: Worker): Promise<void> {
  return new Promise((resolve) => thread.once('exit', () => resolve()));
}
