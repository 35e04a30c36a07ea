import { z } from 'zod';
import { nodeFileSystem, type FileSystem } from '@silt/fs';
import { DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MAX_DISTINCT_KEYS, MIN_BLOCK_SIZE } from './format.js';
import { parseWithSchema } from '../shared/schema-validation.js';

/**
 * Option schemas, exported so a caller can validate its own configuration
 * with the same rules. Unknown options are errors: a typo must not silently
 * fall back to a default.
 */

const FILE_SYSTEM_METHODS = ['open', 'readFile', 'stat', 'exists', 'list', 'mkdir', 'rename', 'unlink', 'syncDirectory'] as const;

export const fileSystemSchema = z.custom<FileSystem>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    FILE_SYSTEM_METHODS.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  { message: `must be a FileSystem from @silt/fs (with ${FILE_SYSTEM_METHODS.join(', ')})` },
);

const sequenceSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const segmentBuilderOptionsSchema = z
  .strictObject({
    /** The file system every byte goes through. Default: the real one. */
    fs: fileSystemSchema.optional(),
    /** First and last write-ahead-log sequence number the segment covers. Required. */
    minSequence: sequenceSchema,
    maxSequence: sequenceSchema,
    /** Keys need not be unique (Whoosh's HashWriter); `getAll` returns every value. No tombstones. Default false. */
    multiValue: z.boolean().optional(),
    /** Target data block size in bytes: the unit of checksums, caching and range seeks. Default 4096. */
    blockSize: z.number().int().min(MIN_BLOCK_SIZE).max(MAX_BLOCK_SIZE).optional(),
    /**
     * About how many distinct keys the segment will hold (a flush knows, a
     * merge has an upper bound): the key index is sized for them at the
     * start instead of doubling as keys come. Only a hint. Default: grows.
     */
    expectedKeys: z.number().int().min(0).max(MAX_DISTINCT_KEYS).optional(),
  })
  .refine((options) => options.minSequence <= options.maxSequence, {
    message: 'minSequence must not be greater than maxSequence',
    path: ['minSequence'],
  });

export type SegmentBuilderOptions = z.input<typeof segmentBuilderOptionsSchema>;

export interface ResolvedBuilderOptions {
  readonly fs: FileSystem;
  readonly minSequence: number;
  readonly maxSequence: number;
  readonly multiValue: boolean;
  readonly blockSize: number;
  readonly expectedKeys: number | undefined;
}

export function resolveBuilderOptions(options: unknown): ResolvedBuilderOptions {
  const parsed = parseWithSchema(segmentBuilderOptionsSchema, options, 'segment builder options');
  return {
    fs: parsed.fs ?? nodeFileSystem,
    minSequence: parsed.minSequence,
    maxSequence: parsed.maxSequence,
    multiValue: parsed.multiValue ?? false,
    blockSize: parsed.blockSize ?? DEFAULT_BLOCK_SIZE,
    expectedKeys: parsed.expectedKeys,
  };
}

/**
 * `memory`: the file is read whole at open, into memory of the process's own.
 * `mmap`: the file is mapped read-only; its bytes are the OS page cache's,
 * one copy shared by every process (falls back to `file` where the process
 * cannot map files). `file`: positioned reads through an LRU block cache.
 */
export type AccessMode = 'memory' | 'mmap' | 'file';
/** How keys come back from iteration, `near` and `closestKey`. */
export type KeyEncoding = 'utf8' | 'binary';

export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

const keyEncodingSchema = z.enum(['utf8', 'binary']);

export const segmentReaderOptionsSchema = z.strictObject({
  fs: fileSystemSchema.optional(),
  /** Default 'memory'. */
  access: z.enum(['memory', 'mmap', 'file']).optional(),
  /** `file` mode only: the most data-block bytes kept in memory. Default 32 MiB. */
  cacheBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Default 'utf8'. Use 'binary' when keys are not UTF-8 text. */
  keyEncoding: keyEncodingSchema.optional(),
});

export type SegmentReaderOptions = z.input<typeof segmentReaderOptionsSchema>;

export const segmentBytesOptionsSchema = z.strictObject({
  /** What errors call the segment. Default '<memory>'. */
  name: z.string().optional(),
  keyEncoding: keyEncodingSchema.optional(),
});

export type SegmentBytesOptions = z.input<typeof segmentBytesOptionsSchema>;

export interface ResolvedReaderOptions {
  readonly fs: FileSystem;
  readonly access: AccessMode;
  readonly cacheBytes: number;
  readonly keyEncoding: KeyEncoding;
}

export function resolveReaderOptions(options: unknown): ResolvedReaderOptions {
  const parsed = parseWithSchema(segmentReaderOptionsSchema, options ?? {}, 'segment reader options');
  return {
    fs: parsed.fs ?? nodeFileSystem,
    access: parsed.access ?? 'memory',
    cacheBytes: parsed.cacheBytes ?? DEFAULT_CACHE_BYTES,
    keyEncoding: parsed.keyEncoding ?? 'utf8',
  };
}

export function resolveBytesOptions(options: unknown): { name: string; keyEncoding: KeyEncoding } {
  const parsed = parseWithSchema(segmentBytesOptionsSchema, options ?? {}, 'segment reader options');
  return { name: parsed.name ?? '<memory>', keyEncoding: parsed.keyEncoding ?? 'utf8' };
}
