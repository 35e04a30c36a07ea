import { ValidationError } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import {
  DEFAULT_MERGE_POLICY,
  TieredMergePolicy,
  validateMergePolicyOptions,
  type MergePolicyOptions,
  type MergeReason,
  type MergeRun,
  type SegmentSummary,
} from '@silt/merger';

/**
 * A synthetic write stream fed through the merge policy, with time: flushes
 * arrive on the refresh tick, a merge takes time proportional to the bytes it
 * reads, at most `mergeThreads` run at once, and writers pause while the
 * count is at the cap. No file is written; segment sizes follow from the
 * stream (see `segmentSize`).
 */
export interface MergeSimulationOptions {
  /** Writes in the stream. */
  readonly writes: number;
  /** Mean writes a second; each flush's count varies by ±`burstiness` of the mean. */
  readonly writesPerSecond: number;
  /** Mean writes per flush; undefined: what one refresh interval gathers, capped by what the memtable holds. */
  readonly flushEntries: number | undefined;
  readonly refreshIntervalMs: number;
  readonly memtableBytes: number;
  readonly keyBytes: number;
  readonly valueBytes: number;
  /** Writes pick keys uniformly from this many, so merged runs shrink as overwrites meet. */
  readonly keySpace: number;
  /** Share of writes that are deletes (tombstones until a merge from the oldest segment drops them). */
  readonly deleteShare: number;
  readonly burstiness: number;
  readonly mergeThreads: number;
  /** Input bytes one merge thread reads (and merges, and writes out) per second. */
  readonly mergeBytesPerSecond: number;
  readonly seed: number;
  readonly policy: MergePolicyOptions;
}

const MIB = 1024 * 1024;
/**
 * Bytes a segment spends per entry beyond key and value (hash slots, block index, lengths): 141.6 MB for 1M entries of 117 B in the
 * segments bench.
 */
const SEGMENT_ENTRY_OVERHEAD_BYTES = 25;
/** What the writer's memtable counts per write of a new key beyond key and value (api's Memtable: 16 B an entry, 80 B a key). */
const MEMTABLE_ENTRY_OVERHEAD_BYTES = 96;

export const DEFAULT_MERGE_SIMULATION: MergeSimulationOptions = Object.freeze({
  writes: 10_000_000,
  writesPerSecond: 10_000,
  flushEntries: undefined,
  refreshIntervalMs: 1000,
  memtableBytes: 64 * MIB,
  keyBytes: 16,
  valueBytes: 100,
  keySpace: 10_000_000,
  deleteShare: 0.1,
  burstiness: 0.5,
  mergeThreads: 1,
  mergeBytesPerSecond: 37_000_000,
  seed: 1,
  policy: DEFAULT_MERGE_POLICY,
});

export interface SimulatedMerge {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly minSequence: number;
  readonly maxSequence: number;
  readonly segments: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly reason: MergeReason;
}

export interface SegmentCountSample {
  readonly seconds: number;
  readonly writes: number;
  readonly segments: number;
}

export interface MergeSimulationSummary {
  readonly writes: number;
  readonly flushes: number;
  readonly meanFlushEntries: number;
  /** When the last write was flushed. */
  readonly writeSeconds: number;
  /** When the last merge the policy wanted had finished. */
  readonly drainedSeconds: number;
  readonly bytesFlushed: number;
  readonly bytesMerged: number;
  /** (bytes written by flushes + merges) / bytes written by flushes. */
  readonly writeAmplification: number;
  readonly merges: number;
  readonly mergesByReason: Readonly<Record<MergeReason, number>>;
  readonly largestMergeBytesRead: number;
  readonly largestMergeSegments: number;
  readonly maxSegments: number;
  /** Time-weighted over the writing period. */
  readonly meanSegments: number;
  /** Live bytes over the bytes of the same writes merged into one segment: time-weighted mean while writing, and max. */
  readonly meanSpaceAmplification: number;
  readonly maxSpaceAmplification: number;
  readonly finalSegments: number;
  readonly finalBytes: number;
  /** Time writers spent paused at the cap. */
  readonly stalledSeconds: number;
}

export interface MergeSimulationResult {
  readonly options: MergeSimulationOptions;
  readonly summary: MergeSimulationSummary;
  readonly samples: readonly SegmentCountSample[];
  readonly merges: readonly SimulatedMerge[];
}

/** A merge the simulation has started and not yet finished. */
interface MergeInFlight {
  readonly run: MergeRun;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly bytesRead: number;
}

export function simulateMerges(overrides: Partial<MergeSimulationOptions> = {}): MergeSimulationResult {
  const options = validateSimulationOptions({ ...DEFAULT_MERGE_SIMULATION, ...overrides });
  return new MergeSimulation(options).run();
}

/** The writes a flush holds on average: one refresh interval's, unless the memtable fills first. */
export function meanFlushEntries(options: MergeSimulationOptions): number {
  if (options.flushEntries !== undefined) return options.flushEntries;
  const memtableEntries = Math.floor(options.memtableBytes / (options.keyBytes + options.valueBytes + MEMTABLE_ENTRY_OVERHEAD_BYTES));
  return Math.max(1, Math.min(Math.round((options.writesPerSecond * options.refreshIntervalMs) / 1000), memtableEntries));
}

class MergeSimulation {
  private readonly random: SeededRandom;
  private readonly live: SegmentSummary[] = [];
  private readonly running: MergeInFlight[] = [];
  private readonly samples: SegmentCountSample[] = [];
  private readonly merges: SimulatedMerge[] = [];
  private readonly policy: TieredMergePolicy;
  private readonly meanEntries: number;
  private readonly tickSeconds: number;
  private nextId = 1;
  private written = 0;
  private flushes = 0;
  private now = 0;
  private bytesFlushed = 0;
  private bytesMerged = 0;
  private stalledSeconds = 0;
  private segmentSecondsWhileWriting = 0;
  private spaceAmplification = 1;
  private maxSpaceAmplification = 1;
  private spaceAmplificationSecondsWhileWriting = 0;
  private writeSeconds = 0;

  constructor(private readonly options: MergeSimulationOptions) {
    this.policy = new TieredMergePolicy(options.policy);
    this.random = new SeededRandom(options.seed);
    this.meanEntries = meanFlushEntries(options);
    this.tickSeconds = this.meanEntries / options.writesPerSecond;
  }

  run(): MergeSimulationResult {
    let nextFlushAt = this.tickSeconds;
    this.sample();
    while (this.written < this.options.writes || this.running.length > 0) {
      const nextMerge = this.earliestRunning();
      if (this.written < this.options.writes && (nextMerge === undefined || nextFlushAt <= nextMerge.endSeconds)) {
        this.advanceTo(nextFlushAt);
        if (this.live.length >= this.options.policy.segmentCap) this.stalledSeconds += this.tickSeconds;
        else this.flush();
        nextFlushAt += this.tickSeconds;
      } else if (nextMerge !== undefined) {
        this.advanceTo(nextMerge.endSeconds);
        this.finish(nextMerge);
      }
      this.startMerges();
      this.sample();
      if (this.live.length >= this.options.policy.segmentCap && this.running.length === 0) {
        throw new Error(`simulation stuck: ${this.live.length} segments at the cap and the policy starts no merge`);
      }
    }
    return { options: this.options, summary: this.summary(), samples: this.samples, merges: this.merges };
  }

  private earliestRunning(): MergeInFlight | undefined {
    return this.running.reduce<MergeInFlight | undefined>(
      (earliest, merge) => (earliest === undefined || merge.endSeconds < earliest.endSeconds ? merge : earliest),
      undefined,
    );
  }

  private advanceTo(seconds: number): void {
    if (this.written < this.options.writes) {
      this.segmentSecondsWhileWriting += this.live.length * (seconds - this.now);
      this.spaceAmplificationSecondsWhileWriting += this.spaceAmplification * (seconds - this.now);
    }
    this.now = seconds;
  }

  private flush(): void {
    const { burstiness, writes } = this.options;
    const jittered = Math.round(this.meanEntries * (1 + burstiness * (2 * this.random.next() - 1)));
    const entries = Math.min(Math.max(1, jittered), writes - this.written);
    const segment = this.newSegment(this.written + 1, this.written + entries, false);
    this.live.push(segment);
    this.written += entries;
    this.flushes += 1;
    this.bytesFlushed += segment.bytes;
    if (this.written === writes) this.writeSeconds = this.now;
  }

  private startMerges(): void {
    if (this.running.length >= this.options.mergeThreads) return;
    const busy = new Set(this.running.flatMap((merge) => merge.run.segmentIds));
    for (const run of this.policy.pickMerges(this.live, { busy })) {
      if (this.running.length >= this.options.mergeThreads) return;
      const bytesRead = this.live.filter((segment) => run.segmentIds.includes(segment.id)).reduce((sum, segment) => sum + segment.bytes, 0);
      this.running.push({ run, startSeconds: this.now, endSeconds: this.now + bytesRead / this.options.mergeBytesPerSecond, bytesRead });
    }
  }

  private finish(merge: MergeInFlight): void {
    this.running.splice(this.running.indexOf(merge), 1);
    const start = this.live.findIndex((segment) => segment.id === merge.run.segmentIds[0]);
    const first = this.live[start];
    const last = this.live[start + merge.run.segmentIds.length - 1];
    if (first === undefined || last === undefined) throw new Error(`simulation lost the run ${merge.run.segmentIds.join(',')}`);
    const output = this.newSegment(first.minSequence, last.maxSequence, merge.run.dropTombstones);
    this.live.splice(start, merge.run.segmentIds.length, output);
    this.bytesMerged += output.bytes;
    this.merges.push({
      startSeconds: merge.startSeconds,
      endSeconds: this.now,
      minSequence: first.minSequence,
      maxSequence: last.maxSequence,
      segments: merge.run.segmentIds.length,
      bytesRead: merge.bytesRead,
      bytesWritten: output.bytes,
      reason: merge.run.reason,
    });
  }

  private newSegment(from: number, to: number, dropTombstones: boolean): SegmentSummary {
    return { id: this.nextId++, minSequence: from, maxSequence: to, ...this.segmentShape(from, to, dropTombstones) };
  }

  /**
   * Size and entries of the segment holding writes [from..to]. Keys are uniform
   * over keySpace, so a contiguous range of n writes touches
   * keySpace·(1 − (1 − 1/keySpace)^n) distinct keys in expectation, whichever
   * segments it came from; the newest operation of deleteShare of them is a delete.
   */
  private segmentShape(from: number, to: number, dropTombstones: boolean): { bytes: number; entries: number; tombstones: number } {
    const { keySpace, deleteShare, keyBytes, valueBytes } = this.options;
    const distinct = Math.round(-keySpace * Math.expm1((to - from + 1) * Math.log1p(-1 / keySpace)));
    const deleted = Math.round(distinct * deleteShare);
    const tombstones = dropTombstones ? 0 : deleted;
    const puts = distinct - deleted;
    const bytes = puts * (keyBytes + valueBytes + SEGMENT_ENTRY_OVERHEAD_BYTES) + tombstones * (keyBytes + SEGMENT_ENTRY_OVERHEAD_BYTES);
    return { bytes, entries: puts + tombstones, tombstones };
  }

  private sample(): void {
    this.samples.push({ seconds: this.now, writes: this.written, segments: this.live.length });
    if (this.written === 0) return;
    const liveBytes = this.live.reduce((sum, segment) => sum + segment.bytes, 0);
    this.spaceAmplification = liveBytes / Math.max(1, this.segmentShape(1, this.written, true).bytes);
    this.maxSpaceAmplification = Math.max(this.maxSpaceAmplification, this.spaceAmplification);
  }

  private summary(): MergeSimulationSummary {
    const byReason: Record<MergeReason, number> = { tiered: 0, floor: 0, 'space-amplification': 0, force: 0 };
    for (const merge of this.merges) byReason[merge.reason] += 1;
    const largest = this.merges.reduce<SimulatedMerge | undefined>(
      (max, merge) => (max === undefined || merge.bytesRead > max.bytesRead ? merge : max),
      undefined,
    );
    return {
      writes: this.written,
      flushes: this.flushes,
      meanFlushEntries: this.meanEntries,
      writeSeconds: this.writeSeconds,
      drainedSeconds: this.now,
      bytesFlushed: this.bytesFlushed,
      bytesMerged: this.bytesMerged,
      writeAmplification: (this.bytesFlushed + this.bytesMerged) / this.bytesFlushed,
      merges: this.merges.length,
      mergesByReason: byReason,
      largestMergeBytesRead: largest?.bytesRead ?? 0,
      largestMergeSegments: largest?.segments ?? 0,
      maxSegments: this.samples.reduce((max, sample) => Math.max(max, sample.segments), 0),
      meanSegments: this.writeSeconds > 0 ? this.segmentSecondsWhileWriting / this.writeSeconds : this.live.length,
      meanSpaceAmplification:
        this.writeSeconds > 0 ? this.spaceAmplificationSecondsWhileWriting / this.writeSeconds : this.spaceAmplification,
      maxSpaceAmplification: this.maxSpaceAmplification,
      finalSegments: this.live.length,
      finalBytes: this.live.reduce((sum, segment) => sum + segment.bytes, 0),
      stalledSeconds: this.stalledSeconds,
    };
  }
}

function validateSimulationOptions(options: MergeSimulationOptions): MergeSimulationOptions {
  const checks: [keyof MergeSimulationOptions, boolean, string][] = [
    ['writes', isIntegerAtLeast(options.writes, 1), 'an integer of at least 1'],
    ['writesPerSecond', isNumberAbove(options.writesPerSecond, 0), 'a number above 0'],
    [
      'flushEntries',
      options.flushEntries === undefined || isIntegerAtLeast(options.flushEntries, 1),
      'an integer of at least 1, or undefined',
    ],
    ['refreshIntervalMs', isNumberAbove(options.refreshIntervalMs, 0), 'a number above 0'],
    ['memtableBytes', isIntegerAtLeast(options.memtableBytes, 1024), 'an integer of at least 1024'],
    ['keyBytes', isIntegerAtLeast(options.keyBytes, 1), 'an integer of at least 1'],
    ['valueBytes', isIntegerAtLeast(options.valueBytes, 0), 'an integer of at least 0'],
    ['keySpace', isIntegerAtLeast(options.keySpace, 1), 'an integer of at least 1'],
    ['deleteShare', isShare(options.deleteShare), 'a share in [0, 1)'],
    ['burstiness', isShare(options.burstiness), 'a share in [0, 1)'],
    ['mergeThreads', isIntegerAtLeast(options.mergeThreads, 1), 'an integer of at least 1'],
    ['mergeBytesPerSecond', isNumberAbove(options.mergeBytesPerSecond, 0), 'a number above 0'],
    ['seed', isIntegerAtLeast(options.seed, 0), 'an integer of at least 0'],
  ];
  for (const [name, ok, what] of checks) {
    if (!ok) throw new ValidationError(`merge simulation option ${name} must be ${what}, got ${String(options[name])}`);
  }
  return { ...options, policy: validateMergePolicyOptions(options.policy) };
}

function isIntegerAtLeast(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isNumberAbove(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > min;
}

function isShare(value: unknown): boolean {
  return typeof value === 'number' && value >= 0 && value < 1;
}
