import type { WriteAheadLog } from '@silt/wal';
import type { Generation, Manifest } from '@silt/segments';
import { buildSegmentFromLog, type SegmentWorkerPool } from '@silt/merger';
import type { FileSystem } from '@silt/fs';
import type { Memtable } from './memtable.js';
import type { IndexLayout } from './index-layout.js';
import type { SegmentIds } from './segment-ids.js';

/** Memtables up to this size are built on the writer's thread (~1 ms), larger ones in the flush worker. */
const BUILD_HERE_BYTES = 64 * 1024;

/** What one flush did, as the `flush` event reports it. */
export interface FlushEvent {
  readonly generation: number;
  readonly segmentId: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly bytes: number;
  readonly fromSequence: number;
  readonly toSequence: number;
  readonly durationMs: number;
}

export interface FlusherHost {
  readonly layout: IndexLayout;
  readonly wal: WriteAheadLog;
  readonly manifest: Manifest;
  readonly pool: SegmentWorkerPool;
  readonly segmentIds: SegmentIds;
  readonly fs: FileSystem;
  /** Called once the segment is committed: swap it in for the memtable (resolves when it is). */
  installed(table: Memtable, generation: Generation, event: FlushEvent): Promise<void>;
}

/**
 * Turns sealed memtables into segments, one at a time and in sequence
 * order, so that segments cover ordered, disjoint sequence ranges. The
 * chain of a flush: build the segment from the log range in a worker
 * (fsynced with its directory), commit it to the manifest with the log
 * position it covers, swap it in for the memtable, then delete the log
 * files it covers.
 */
export class Flusher {
  private chain: Promise<void> = Promise.resolve();
  /** The flushes queued or running, oldest first. */
  private readonly waiting: Promise<void>[] = [];
  private completed = 0;

  constructor(private readonly host: FlusherHost) {}

  /** Flushes committed and swapped in so far. */
  get flushes(): number {
    return this.completed;
  }

  /** Queues `table` for flushing; resolves when it (and every table queued before it) is in a segment. */
  enqueue(table: Memtable): Promise<void> {
    const flushed = this.chain.then(() => this.flushOne(table));
    this.waiting.push(flushed);
    this.chain = flushed.finally(() => this.waiting.shift());
    // A failure reaches the caller through `flushed` and `idle()`; the chain itself must not
    // count as an unhandled rejection when nobody is waiting on it.
    this.chain.catch(() => undefined);
    return flushed;
  }

  /** Resolves when every queued table is flushed, or rejects with the first flush failure. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Resolves when the oldest queued table is flushed (at once if none is). */
  oldest(): Promise<void> {
    return this.waiting[0] ?? Promise.resolve();
  }

  get queued(): number {
    return this.waiting.length;
  }

  private async flushOne(table: Memtable): Promise<void> {
    const started = performance.now();
    const { layout, wal, manifest, pool } = this.host;
    const fromSequence = table.firstSequence;
    const toSequence = table.lastSequence;
    // The worker reads the range from the log files: the log says when every record in it is
    // there (it rejects if it refused any of them, and no segment may hold a refused write).
    await wal.whenWritten(toSequence);
    const segmentId = this.host.segmentIds.take();
    const request = { walDirectory: layout.walDirectory, fromSequence, toSequence, segmentPath: layout.segmentPath(segmentId) };
    // A small table builds in a millisecond or two here; the round trip to the worker costs more.
    const built = table.bytes <= BUILD_HERE_BYTES ? await buildSegmentFromLog(this.host.fs, request) : await pool.flush(request);
    const generation = manifest.commit({
      add: [
        {
          id: segmentId,
          minSequence: fromSequence,
          maxSequence: toSequence,
          minKey: built.minKey,
          maxKey: built.maxKey,
          bytes: built.bytes,
          entries: built.entries,
          tombstones: built.tombstones,
        },
      ],
      walCoveredSequence: toSequence,
    });
    const event: FlushEvent = {
      generation: generation.generation,
      segmentId,
      entries: built.entries,
      tombstones: built.tombstones,
      bytes: built.bytes,
      fromSequence,
      toSequence,
      durationMs: performance.now() - started,
    };
    await this.host.installed(table, generation, event);
    this.completed++;
    await wal.truncateBefore(toSequence + 1);
  }
}
