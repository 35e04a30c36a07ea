import { Piscina } from 'piscina';
import { ClosedError, type FileSystem } from '@silt/fs';
import { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';

export interface SegmentWorkerPoolOptions {
  /**
   * Run tasks on this thread with this file system instead of in worker
   * threads: for tests whose simulated file system cannot cross threads.
   */
  readonly inProcessFs?: FileSystem;
}

const WORKER_URL = new URL('./segment-worker.js', import.meta.url).href;

/**
 * The worker threads that build segments. Flushes get a pool of their own
 * so that a flush never waits behind a merge: a stalled flush would stall
 * the writer once memtables pile up.
 */
export class SegmentWorkerPool {
  private readonly flushPool: Piscina | undefined;
  private closed = false;

  constructor(private readonly options: SegmentWorkerPoolOptions = {}) {
    if (options.inProcessFs === undefined) {
      // idleTimeout keeps the thread warm between flushes (one a second by default).
      this.flushPool = new Piscina({ filename: WORKER_URL, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
    }
  }

  flush(request: FlushRequest): Promise<FlushResult> {
    if (this.closed) return Promise.reject(new ClosedError('the segment worker pool'));
    if (this.flushPool === undefined) return buildSegmentFromLog(this.options.inProcessFs!, request);
    return this.flushPool.run(request, { name: 'flush' }) as Promise<FlushResult>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushPool?.destroy();
  }
}
