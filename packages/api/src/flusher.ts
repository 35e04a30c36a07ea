import type { WriteAheadLog } from '@silt/wal';
import type { Generation, Manifest } from '@silt/segments';
import { buildSegmentFromLog, type FlushResult, type SegmentWorkerPool } from '@silt/merger';
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

/** What a flusher needs of the writer: only these members, so a test can stand in for each. */
export interface FlusherHost {
  readonly layout: Pick<IndexLayout, 'walDirectory' | 'segmentPath'>;
  readonly wal: Pick<WriteAheadLog, 'whenWritten' | 'truncateBefore'>;
  readonly manifest: Pick<Manifest, 'commit'>;
  readonly pool: Pick<SegmentWorkerPool, 'flush'>;
  readonly segmentIds: Pick<SegmentIds, 'take'>;
  readonly fs: FileSystem;
  /** Called once the segment is committed: swap it in for the memtable (resolves when it is). */
  installed(table: Memtable, generation: Generation, event: FlushEvent): Promise<void>;
}

/** A segment built from a table's log range, not yet committed. */
interface BuiltFlush {
  readonly segmentId: number;
  readonly built: FlushResult;
  readonly started: number;
}

/**
 * Turns sealed memtables into segments in sequence order, so that segments
 * cover ordered, disjoint sequence ranges. The chain of a flush: build the
 * segment from the log range in a worker (fsynced with its directory),
 * commit it to the manifest with the log position it covers, swap it in for
 * the memtable, then delete the log files it covers.
 *
 * Builds run one after another, and so do commits; the next table's build
 * starts as soon as this one's is done, while this one commits and loads
 * into the writer's stack. A table's commit waits for every commit before
 * it, and a failed build or commit fails every flush after it: no segment
 * may be committed over a gap in the log. A segment built but never
 * committed (the one before it failed) is what a crash between build and
 * commit leaves: the next open proves it obsolete and deletes it.
 */
export class Flusher {
  /** The last build queued: the next one starts after it, and only if it succeeded. */
  private building: Promise<unknown> = Promise.resolve();
  /** The last flush queued, to its commit and install. */
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
    const built = this.building.then(() => this.build(table));
    this.building = built;
    const flushed = Promise.all([this.chain, built]).then(([, flush]) => this.commit(table, flush));
    this.waiting.push(flushed);
    this.chain = flushed.finally(() => this.waiting.shift());
    // A failure reaches the caller through `flushed` and `idle()`; the chains themselves must not
    // count as unhandled rejections when nobody is waiting on them.
    this.chain.catch(() => undefined);
    this.building.catch(() => undefined);
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

  private async build(table: Memtable): Promise<BuiltFlush> {
    const started = performance.now();
    const { layout, wal, pool } = this.host;
    const fromSequence = table.firstSequence;
    const toSequence = table.lastSequence;
    // The worker reads the range from the log files: the log says when every record in it is
    // there (it rejects if it refused any of them, and no segment may hold a refused write).
    await wal.whenWritten(toSequence);
    const segmentId = this.host.segmentIds.take();
    const request = { walDirectory: layout.walDirectory, fromSequence, toSequence, segmentPath: layout.segmentPath(segmentId) };
    // A small table builds in a millisecond or two here; the round trip to the worker costs more.
    const built = table.bytes <= BUILD_HERE_BYTES ? await buildSegmentFromLog(this.host.fs, request) : await pool.flush(request);
    return { segmentId, built, started };
  }

  private async commit(table: Memtable, { segmentId, built, started }: BuiltFlush): Promise<void> {
    const { manifest, wal } = this.host;
    const fromSequence = table.firstSequence;
    const toSequence = table.lastSequence;
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
