import { z } from 'zod';
import { nodeFileSystem, type FileSystem } from '@silt/fs';
import { SEGMENT_MAX_VALUE_BYTES } from '@silt/segments';
import { fileSystemSchema, parseWithSchema } from '@silt/segments/internal';
import { mergePolicyOptionsSchema, type MergePolicyOptions } from '@silt/merger';
import { defaultMergeThreads } from '@silt/merger/internal';
import { segmentAccessOptionsShape } from '@silt/reader/internal';

const MIB = 1024 * 1024;

/**
 * Options of `Index.open`, as a zod schema a caller can reuse to validate
 * its own configuration. Unknown options are errors: a typo must not fall
 * back to a default in silence.
 */
export const indexOptionsSchema = z.strictObject({
  /** When a write's promise resolves: see the guarantees table in the README. Default 'write'. */
  durability: z.enum(['fsync', 'write', 'none']).default('write'),
  /** Flush new writes into a segment this often, so other processes see them (keyvi's default). Default 1000 ms. */
  refreshIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(1000),
  /** Flush early once the active memtable holds about this many bytes. Default 64 MiB. */
  memtableBytes: z
    .number()
    .int()
    .min(1024)
    .max(4096 * MIB)
    .default(64 * MIB),
  /** In 'write' mode, how often the log is fdatasynced in the background. Default 200 ms. */
  syncIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(200),
  ...segmentAccessOptionsShape,
  /**
   * Largest value accepted. Default 16 MiB; values must also fit a log record with their batch, and a segment
   * (SEGMENT_MAX_VALUE_BYTES).
   */
  maxValueBytes: z
    .number()
    .int()
    .min(1)
    .max(SEGMENT_MAX_VALUE_BYTES)
    .default(16 * MIB),
  /** A log file past this size is closed and the next started; covered files are deleted after flushes. Default 32 MiB. */
  walFileBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * MIB)
    .default(32 * MIB),
  /** What to do with a damaged log record followed by good ones: refuse to open, or keep the valid prefix. Default 'strict'. */
  walRecovery: z.enum(['strict', 'keepValidPrefix']).default('strict'),
  /** Merge segments in the background as the policy picks. Off, segments only merge on `forceMerge`. Default true. */
  autoMerge: z.boolean().default(true),
  /** Merges running at once, each on a worker thread of its own. Default max(1, cores / 2). */
  mergeThreads: z.number().int().min(1).max(64).optional(),
  /**
   * The merge policy's settings (see @silt/merger's README for each, its default and why); any left
   * out keep their defaults. `segmentCap` is also where writes start to be held back (backpressure).
   */
  mergePolicy: mergePolicyOptionsSchema.prefault({}),
  /**
   * What this process does: 'auto' takes the writer lock if it is free and serves the other processes' writes, and
   * otherwise forwards its writes to the process that holds it (and takes over when that one dies); 'writer' is the
   * writer or fails with LockError (after `lockTimeoutMs`); 'reader' never writes. Default 'auto'.
   */
  role: z.enum(['auto', 'writer', 'reader']).default('auto'),
  /**
   * How long `open` waits: with 'writer', for the lock to be free (default 0: fail at once); with 'auto' and
   * 'reader', for a writer to answer or the index to exist (default 10 000 ms).
   */
  lockTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  /** The file system every byte goes through; tests pass a simulated one (builds then run on this thread). */
  fs: fileSystemSchema.optional(),
});

export type IndexOptions = z.input<typeof indexOptionsSchema>;
export type ResolvedIndexOptions = Omit<z.output<typeof indexOptionsSchema>, 'fs' | 'mergeThreads' | 'mergePolicy'> & {
  readonly fs: FileSystem;
  readonly simulatedFs: boolean;
  readonly mergeThreads: number;
  readonly mergePolicy: MergePolicyOptions;
};

export function resolveIndexOptions(options: unknown): ResolvedIndexOptions {
  const { fs, mergeThreads, mergePolicy, ...rest } = parseWithSchema(indexOptionsSchema, options ?? {}, 'index options');
  return {
    ...rest,
    fs: fs ?? nodeFileSystem,
    simulatedFs: fs !== undefined && fs !== nodeFileSystem,
    mergeThreads: mergeThreads ?? defaultMergeThreads(),
    mergePolicy,
  };
}
