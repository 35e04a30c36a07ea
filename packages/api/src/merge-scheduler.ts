import { SiltError, systemClock, type CancelTimer, type Clock } from '@silt/fs';
import type { Generation, Manifest, NewSegment, SegmentRecord } from '@silt/segments';
import { checkMergeRuns, type MergePolicy, type MergeReason, type MergeResult, type MergeRun, type SegmentWorkerPool } from '@silt/merger';
import type { IndexLayout } from './index-layout.js';
import type { SegmentIds } from './segment-ids.js';

/** What one committed merge did, as the `merge` event reports it. */
export interface MergeEvent {
  readonly generation: number;
  readonly reason: MergeReason;
  /** The ids of the segments merged, oldest first. */
  readonly inputs: readonly number[];
  /** The id of the segment written; undefined when every entry was a dropped tombstone. */
  readonly output: number | undefined;
  readonly inputBytes: number;
  readonly inputEntries: number;
  readonly bytes: number;
  readonly entries: number;
  readonly droppedTombstones: number;
  readonly durationMs: number;
}

/** A merge that failed in its worker; the index is as it was and the run is tried again later. */
export class MergeFailedError extends SiltError {
  readonly code = 'SILT_MERGE_FAILED';

  constructor(
    readonly inputs: readonly number[],
    cause: unknown,
  ) {
    super(
      `merging segments ${inputs.join(', ')} failed (the index is unchanged; the merge is retried later): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

export interface MergeSchedulerHost {
  readonly layout: Pick<IndexLayout, 'segmentPath'>;
  readonly manifest: Pick<Manifest, 'current' | 'commit'>;
  readonly pool: Pick<SegmentWorkerPool, 'merge'>;
  readonly segmentIds: Pick<SegmentIds, 'take'>;
  /** Which runs to merge (the index passes a TieredMergePolicy of its `mergePolicy` options). */
  readonly policy: MergePolicy;
  readonly mergeThreads: number;
  /** Times the retry delays after a failed merge; default the system clock. */
  readonly clock?: Clock;
  /** Whether the policy starts merges (after flushes, commits and retry delays); off, only forceMerge merges. */
  readonly autoMerge: boolean;
  /** False once the writer closes or fails: no new merge starts. */
  mayStart(): boolean;
  /** Called with each committed generation, in commit order: swap the merged segment in. */
  installed(generation: Generation, event: MergeEvent): Promise<void>;
  /** A merge failed in its worker (non-fatal). */
  mergeFailed(error: MergeFailedError): void;
  /**
   * A commit (or the manifest around it) failed, or the policy answered with runs that break newest-wins: fatal for the writer, as a
   * failed flush is.
   */
  commitFailed(error: unknown): void;
}

/** After a failed merge its segments wait this long before another try, doubling per failure. */
const RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 60_000;

/** A merge the scheduler started: its outcome, and how to abort it. */
interface ScheduledMerge {
  readonly done: Promise<void>;
  readonly controller: AbortController;
}

/**
 * Starts merges the policy picks, up to `mergeThreads` at once, on disjoint
 * runs, and commits each by replacing its run in one manifest transaction.
 * Every flush and every merge commit asks the policy again.
 */
export class MergeScheduler {
  private readonly running = new Set<ScheduledMerge>();
  private readonly busy = new Set<number>();
  /** Segment id → the clock time before which it is not merged again, after a failure. */
  private readonly retryAfter = new Map<number, { at: number; delayMs: number }>();
  private readonly retryTimers = new Set<CancelTimer>();
  private readonly clock: Clock;
  private waiters: Array<() => void> = [];
  private committed = 0;
  private failed = 0;
  private lastFailure: MergeFailedError | undefined;
  private written = 0;

  constructor(private readonly host: MergeSchedulerHost) {
    this.clock = host.clock ?? systemClock;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Merges committed since the scheduler started. */
  get merges(): number {
    return this.committed;
  }

  /** Merges that failed in their worker (each is retried after its delay). */
  get failures(): number {
    return this.failed;
  }

  /** Bytes of the segments merges wrote. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Starts what the policy picks, if automatic merges are on and threads are free. */
  schedule(): void {
    if (!this.host.autoMerge || !this.host.mayStart()) return;
    const free = this.host.mergeThreads - this.running.size;
    if (free <= 0) return;
    const live = this.liveSegments();
    const busy = this.unavailable();
    let runs: MergeRun[];
    try {
      runs = checkedRuns(live, busy, this.host.policy.pickMerges(live, { busy }));
    } catch (error) {
      this.host.commitFailed(error);
      return;
    }
    for (const run of runs.slice(0, free)) this.start(run, live);
  }

  /**
   * Merges until at most `maxSegments` segments are live, then resolves.
   * Runs of at most `maxSegmentsPerMerge` each, newest first, so a large
   * index takes several rounds.
   */
  async forceMerge(maxSegments: number): Promise<void> {
    const failuresBefore = this.failed;
    for (;;) {
      if (!this.host.mayStart()) return;
      if (this.failed > failuresBefore) throw this.lastFailure!;
      const live = this.liveSegments();
      if (live.length <= maxSegments && this.running.size === 0) return;
      const runs = checkedRuns(live, this.busy, this.host.policy.planForceMerge(live, { busy: this.busy, maxSegments }));
      for (const run of runs) this.start(run, live);
      if (this.running.size === 0) return; // nothing left to merge: the count cannot go lower
      await this.nextCompletion();
    }
  }

  /** Resolves when the next running merge ends (committed or failed). */
  nextCompletion(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when no merge runs. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running].map((merge) => merge.done));
  }

  /** Aborts running merges (their partial outputs are removed) and waits for them. */
  async close(): Promise<void> {
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    for (const merge of this.running) merge.controller.abort();
    await this.idle();
  }

  /** `live` is the list the policy picked `run` from: its records are the run's inputs. */
  private start(run: MergeRun, live: readonly SegmentRecord[]): void {
    const segments = run.segmentIds.map((id) => live.find((segment) => segment.id === id)!);
    const controller = new AbortController();
    for (const id of run.segmentIds) this.busy.add(id);
    const done = this.runOne(run, segments, controller.signal)
      .catch((error: unknown) => this.host.commitFailed(error))
      .finally(() => {
        for (const id of run.segmentIds) this.busy.delete(id);
        this.running.delete(tracked); // runOne is async: this runs after `tracked` is set
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
        this.schedule();
      });
    const tracked: ScheduledMerge = { controller, done };
    this.running.add(tracked);
  }

  private async runOne(run: MergeRun, segments: readonly SegmentRecord[], signal: AbortSignal): Promise<void> {
    const { manifest, layout, pool } = this.host;
    const outputId = this.host.segmentIds.take();
    let result: MergeResult;
    try {
      result = await pool.merge(
        {
          inputs: segments.map((segment) => ({
            path: layout.segmentPath(segment.id),
            minSequence: segment.minSequence,
            maxSequence: segment.maxSequence,
          })),
          outputPath: layout.segmentPath(outputId),
          dropTombstones: run.dropTombstones,
        },
        { signal },
      );
    } catch (error) {
      if (signal.aborted || !this.host.mayStart()) return;
      this.recordFailure(run);
      this.lastFailure = new MergeFailedError(run.segmentIds, error);
      this.host.mergeFailed(this.lastFailure);
      return;
    }
    for (const id of run.segmentIds) this.retryAfter.delete(id);
    let generation: Generation;
    try {
      generation = manifest.commit(
        result.empty ? { remove: [...run.segmentIds] } : { add: [newSegmentOf(outputId, result)], remove: [...run.segmentIds] },
      );
    } catch (error) {
      this.host.commitFailed(error);
      return;
    }
    this.committed++;
    this.written += result.empty ? 0 : result.bytes;
    await this.host.installed(generation, {
      generation: generation.generation,
      reason: run.reason,
      inputs: run.segmentIds,
      output: result.empty ? undefined : outputId,
      inputBytes: result.inputBytes,
      inputEntries: result.inputEntries,
      bytes: result.empty ? 0 : result.bytes,
      entries: result.entries,
      droppedTombstones: result.droppedTombstones,
      durationMs: result.durationMs,
    });
  }

  private liveSegments(): readonly SegmentRecord[] {
    return this.host.manifest.current().segments;
  }

  /** Busy segments, and those waiting out a retry delay. */
  private unavailable(): Set<number> {
    const now = this.clock.now();
    const ids = new Set(this.busy);
    for (const [id, retry] of this.retryAfter) if (retry.at > now) ids.add(id);
    return ids;
  }

  private recordFailure(run: MergeRun): void {
    this.failed++;
    let longestMs = 0;
    for (const id of run.segmentIds) {
      const delayMs = Math.min(MAX_RETRY_DELAY_MS, (this.retryAfter.get(id)?.delayMs ?? RETRY_DELAY_MS / 2) * 2);
      this.retryAfter.set(id, { at: this.clock.now() + delayMs, delayMs });
      longestMs = Math.max(longestMs, delayMs);
    }
    // Once the whole run's delay has passed, ask the policy again even if no flush comes.
    const cancel = this.clock.setTimer(longestMs + 1, () => {
      this.retryTimers.delete(cancel);
      this.schedule();
    });
    this.retryTimers.add(cancel);
  }
}

/** The policy's runs, once checked: a run that breaks newest-wins is a ValidationError, and nothing starts. */
function checkedRuns(live: readonly SegmentRecord[], busy: ReadonlySet<number>, runs: MergeRun[]): MergeRun[] {
  checkMergeRuns(live, busy, runs);
  return runs;
}

function newSegmentOf(id: number, result: Extract<MergeResult, { empty: false }>): NewSegment {
  return {
    id,
    minSequence: result.minSequence,
    maxSequence: result.maxSequence,
    minKey: result.minKey,
    maxKey: result.maxKey,
    bytes: result.bytes,
    entries: result.entries,
    tombstones: result.tombstones,
  };
}
