import { writeSync } from 'node:fs';
import { z } from 'zod';

/**
 * What the reader-process tests share between the parent, the writer child
 * (writer-for-readers.ts) and the reader children (reader-child.ts).
 *
 * Write number `n` (1, 2, 3, ... across every life of the writer) sets
 * `keyOf(n)` to `valueOf(n)`, so any value a reader meets says which write
 * put it there, and a reader can check it is one the writer writes.
 */

export const KEY_SPACE = 300;

export function keyOf(n: number): string {
  return `k${String(n % KEY_SPACE).padStart(4, '0')}`;
}

export function valueOf(n: number): string {
  return `${n}:${keyOf(n)}:${'v'.repeat(n % 41)}`;
}

/** The write number behind `value`, read for `key`; throws if the writer never writes that value there. */
export function writeNumberOf(key: string, value: unknown): number {
  const n = typeof value === 'string' ? Number(value.slice(0, value.indexOf(':'))) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || keyOf(n) !== key || valueOf(n) !== value) {
    throw new Error(`read ${JSON.stringify(value)} for ${key}: not a value the writer ever wrote there`);
  }
  return n;
}

// ---- the writer child: argv[2] is a WriterConfig; its stdout is lines ----

export const writerConfigSchema = z.strictObject({
  dir: z.string().min(1),
  /**
   * The first write number of this life: one past the last one any earlier life issued. 0: load, then
   * read it from a line `go <firstN>` on stdin before opening the index (a restart then costs an open, not a process start).
   */
  firstN: z.number().int().min(0),
  refreshIntervalMs: z.number().int().min(1),
  seed: z.number().int(),
  durability: z.enum(['fsync', 'write']).default('write'),
  memtableBytes: z.number().int().min(1024).optional(),
  walFileBytes: z.number().int().min(1024).optional(),
  /** `flush()` after every this many bursts; 0: never (the timer and a full memtable still flush). */
  flushEvery: z.number().int().min(0).default(15),
  /** `forceMerge(1)` after every this many bursts; 0: never. */
  mergeEvery: z.number().int().min(0).default(10),
});
export type WriterConfigInput = z.input<typeof writerConfigSchema>;
export type WriterConfig = z.infer<typeof writerConfigSchema>;

/**
 * Writes every byte with blocking write(2): a line printed is a line the
 * parent gets, however soon a SIGKILL comes (process.stdout could still
 * hold it in memory once the pipe is full).
 */
export function printLine(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(1, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

// ---- the reader children: forked, with IPC ----

export const readerConfigSchema = z.strictObject({
  dir: z.string().min(1),
  accessMode: z.enum(['memory', 'mmap', 'file']),
  pollIntervalMs: z.number().int().min(10),
  seed: z.number().int(),
  /** The pause between two rounds of reads (about 50 gets and a range or near). */
  readPauseMs: z.number().int().min(0).default(5),
  /** Load, then open the index only when told (an `open` request): a restart then costs an open, not a process start. */
  deferOpen: z.boolean().default(false),
});
export type ReaderConfig = z.input<typeof readerConfigSchema>;

/** How far a reader is, from its `stats()`. */
export interface ReaderPosition {
  readonly generation: number;
  /** The log the generation served covers. */
  readonly coveredSequence: number;
  /** The last sequence number whose write reads see: past `coveredSequence` only by tailing. */
  readonly visibleSequence: number;
  /** Writes held in the tail table (tailed, not yet covered by a generation the reader serves). */
  readonly tailEntries: number;
}

/** Parent to reader. */
export type ReaderRequest =
  /** Is `key` = `value`? With `refresh`, after `await refresh()`; without, once the reader's own watch shows it. */
  | { readonly type: 'expect'; readonly key: string; readonly value: string; readonly refresh: boolean }
  /**
   * Wait, woken by the reader's own 'tail' and 'refresh' events (no refresh()), until every key `keyOf(slot)` shows
   * a write numbered at least `floor[slot]` (0: anything).
   */
  | { readonly type: 'catchUp'; readonly floor: readonly number[] }
  /** Open the index now (a reader loaded with `deferOpen`). */
  | { readonly type: 'open' }
  | { readonly type: 'close' };

/** Reader to parent. */
export type ReaderMessage =
  | { readonly type: 'ready'; readonly generation: number }
  | {
      readonly type: 'report';
      readonly generation: number;
      /** Highest write number any read returned. */
      readonly maxN: number;
      readonly reads: number;
      readonly refreshes: number;
      /** Failures of background refreshes, from the 'error' event. */
      readonly backgroundErrors: readonly string[];
      /** Write numbers reads returned for the first time since the last report. */
      readonly seen: readonly number[];
      readonly position: ReaderPosition;
    }
  | { readonly type: 'expected'; readonly got: string | null; readonly generation: number; readonly waitedMs: number }
  | { readonly type: 'caughtUp'; readonly position: ReaderPosition; readonly waitedMs: number }
  | { readonly type: 'failure'; readonly error: string }
  | { readonly type: 'closed' };
