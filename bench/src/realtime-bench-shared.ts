/**
 * What the realtime bench (realtime-bench.ts) and its reader processes
 * (realtime-bench-child.ts) share: the jobs, their results and the keys.
 */

/** What the parent asks a forked process to do (one JSON argument). */
export type RealtimeJob =
  /**
   * Follow `probeKey(0, 1, ...)` (written in that order, among load writes)
   * and report when each became readable, until the parent's `end` says how
   * many there were: a ReadOnlyIndex with default settings (or `tail:
   * false`), or better-sqlite3 polling a WAL-mode file.
   */
  | { readonly kind: 'visibility'; readonly engine: 'silt' | 'silt-no-tail' | 'sqlite'; readonly path: string }
  /** Subscribe to `ReadOnlyIndex.changes()` (the reader opened with `tail` as given) and take every change the writer made. */
  | { readonly kind: 'feed'; readonly dir: string; readonly tail: boolean }
  /** Random gets over `generatedKey(0..keys-1)` from two indexes, one serving them from its tail, one from segments. */
  | {
      readonly kind: 'tail-gets';
      readonly tailDir: string;
      readonly segmentDir: string;
      readonly keys: number;
      readonly tailSequence: number;
      readonly rounds: number;
    }
  /** Memory of a process before opening `dir` and after reading every key once (the tail applied through `tailSequence`). */
  | { readonly kind: 'memory'; readonly dir: string; readonly keys: number; readonly tailSequence: number };

/** What the parent tells a visibility or feed process once the writer stopped: the probes and writes it made. */
export interface EndMessage {
  readonly kind: 'end';
  readonly probes: number;
  readonly writes: number;
}

export interface MemoryUsage {
  readonly rssBytes: number;
  readonly heapBytes: number;
  readonly externalBytes: number;
}

export type RealtimeResult =
  | { readonly kind: 'ready' }
  /** Wall-clock time (ms since the epoch, sub-ms) at which each probe was first read. */
  | { readonly kind: 'visibility'; readonly seenAt: number[] }
  | {
      readonly kind: 'feed';
      /** When each probe's change was handed over by the iterator. */
      readonly seenAt: number[];
      readonly changes: number;
      /** Places where a sequence number did not follow the one before by exactly 1. */
      readonly gaps: number;
      readonly firstAt: number;
      readonly lastAt: number;
    }
  | {
      readonly kind: 'tail-gets';
      readonly tail: number[];
      readonly segments: number[];
      readonly tailBytes: number;
      readonly tailEntries: number;
    }
  | { readonly kind: 'memory'; readonly before: MemoryUsage; readonly after: MemoryUsage; readonly tailBytes: number };

/**
 * A clock every process on one machine shares: CLOCK_MONOTONIC (what
 * `process.hrtime` reads), in ms. Not `performance.timeOrigin + now()`: a
 * long-running process's origin is fixed at its start while the wall clock
 * is slewed by NTP (up to 0.5 ms a second), so a bench process and a
 * freshly forked one can disagree by tens of milliseconds.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function probeKey(i: number): string {
  return `probe-${String(i).padStart(7, '0')}`;
}

export const GENERATED_VALUE_BYTES = 100;

/** 16-byte keys, spread over the key space, made on the fly so that no process holds millions of strings. */
export function generatedKey(i: number): string {
  return `k${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(7, '0')}`;
}

export function generatedValue(i: number): string {
  return `${i}:`.padEnd(GENERATED_VALUE_BYTES, 'v');
}
