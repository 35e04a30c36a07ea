/**
 * What the reader bench (reader-bench.ts) and its reader process
 * (reader-bench-child.ts) share: the jobs, their results, and the keys of
 * the generated indexes.
 */

/** What the parent asks a forked reader process to do (one JSON argument). */
export type ReaderJob =
  /** Poll for `count` keys `visibilityKey(0..count-1)` (written in that order) and report when each became readable. */
  | { readonly kind: 'visibility'; readonly dir: string; readonly count: number }
  /** Random gets of a shared key-value dataset: silt in both modes and lmdb-js, `rounds` interleaved rounds. */
  | {
      readonly kind: 'gets';
      readonly siltDir: string;
      readonly lmdbPath: string;
      readonly keys: number;
      readonly keyBytes: number;
      readonly valueBytes: number;
      readonly seed: number;
      readonly rounds: number;
      readonly cacheBytes: number;
    }
  /**
   * Open the index in `accessMode`, get every key once, report resident
   * memory; no dir: the bare process. `together`: say 'ready' once read,
   * and measure when the parent sends 'measure' (so that processes reading
   * together measure while all of them are alive).
   */
  | {
      readonly kind: 'rss';
      readonly dir?: string;
      readonly accessMode: 'memory' | 'mmap' | 'file';
      readonly keys: number;
      readonly together?: boolean;
    };

export type ReaderResult =
  | { readonly kind: 'ready' }
  /** Wall-clock time (ms since the epoch, sub-ms) at which each key was first read. */
  | { readonly kind: 'visibility'; readonly seenAt: number[] }
  | {
      readonly kind: 'gets';
      readonly siltMemory: number[];
      readonly siltMmap: number[];
      readonly siltMmapAccess: string;
      readonly siltFile: number[];
      readonly lmdb: number[];
    }
  | {
      readonly kind: 'rss';
      readonly rssBytes: number;
      /** Linux: memory of the process's own (RssAnon), and its proportional share of pages shared with others (Pss). */
      readonly anonBytes: number;
      readonly pssBytes: number;
      readonly heapBytes: number;
      readonly externalBytes: number;
    };

/** A clock two processes on one machine agree on: wall-clock ms with sub-ms resolution. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function visibilityKey(i: number): string {
  return `vis-${String(i).padStart(6, '0')}`;
}

/** 16-byte keys and 100-byte values made on the fly, so no process holds millions of strings. */
export const RSS_VALUE_BYTES = 100;

export function rssKey(i: number): string {
  return `k${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(7, '0')}`;
}

export function rssValue(i: number): string {
  return `${i}:`.padEnd(RSS_VALUE_BYTES, 'v');
}
