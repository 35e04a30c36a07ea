import { z } from 'zod';
import { nodeFileSystem, type FileSystem } from '@silt/fs';
import { fileSystemSchema, parseWithSchema } from '@silt/segments/internal';
import { valueEncodingSchema } from './value-encoding.js';

const MIB = 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Options of `ReadOnlyIndex.open`, as a zod schema a caller can reuse to
 * validate its own configuration. Unknown options are errors: a typo must
 * not fall back to a default in silence.
 */
/**
 * How an index's segments are read and its keys handed back: the same
 * options, with the same defaults, for the writer (`Index.open`) and for
 * readers, so that the two can never drift apart.
 */
export const segmentAccessOptionsShape = {
  /**
   * How segments are read: 'memory' loads each file whole into the process;
   * 'mmap' maps each file, so every process shares the OS page cache's one
   * copy (where the @silt/mmap addon is missing, segments open as 'file');
   * 'file' reads blocks through a bounded cache. Default 'memory'.
   */
  accessMode: z.enum(['memory', 'mmap', 'file']).default('memory'),
  /** Block cache per segment in 'file' mode. Default 8 MiB. */
  cacheBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * MIB)
    .default(8 * MIB),
  /** Keys come back from range/near/fuzzy as strings ('utf8') or Uint8Arrays ('binary'). Default 'utf8'. */
  keyEncoding: z.enum(['utf8', 'binary']).default('utf8'),
  /** How values are written and read back ('utf8', 'binary', 'json' or { encode, decode }). Default: as given. */
  valueEncoding: valueEncodingSchema,
};

/**
 * Options of `ReadOnlyIndex.open`, as a zod schema a caller can reuse to
 * validate its own configuration. Unknown options are errors: a typo must
 * not fall back to a default in silence.
 */
export const readOnlyIndexOptionsSchema = z.strictObject({
  ...segmentAccessOptionsShape,
  /**
   * Refresh on its own when the writer commits a generation (file-system
   * events on the manifest, plus the safety poll). `false` gives a fixed
   * snapshot that moves only on `refresh()`. Default true.
   */
  watch: z.boolean().default(true),
  /**
   * How long after a manifest event the generation is checked, so the
   * several writes of one commit cost one check. Default 10 ms: a commit's
   * writes land within a millisecond or two, and this is most of what a
   * reader adds to the writer's refresh interval.
   */
  debounceMs: z.number().int().min(0).max(10_000).default(10),
  /**
   * The safety poll: the generation is checked this often even without
   * events, for file systems that deliver none (network mounts, some
   * containers and VMs' shared folders). A check is one indexed SQLite read
   * (a few µs). Default 2000 ms: the worst-case delay where events never come.
   */
  pollIntervalMs: z.number().int().min(10).max(MAX_TIMER_MS).default(2000),
  /**
   * Follow the writer's log past the generation served, so a write is
   * visible within milliseconds of its acknowledgement instead of after the
   * writer's next flush (README, "Tailing the log"). A writer in 'none'
   * durability publishes its log only at a clean close: tailing then shows
   * nothing sooner than a flush does. `'onRead'` follows it too, but lazily:
   * a log event only marks the table stale (on Linux a second one before
   * a read pauses the log's events), and the next read (or `catchUpTo`) applies
   * what is new in one pass, so a reader that reads seldom spends nothing
   * on a busy writer's log: not even a wake-up per group commit. Its 'tail'
   * events come at its reads. Default true.
   */
  tail: z.union([z.boolean(), z.literal('onRead')]).default(true),
  /**
   * The most the table of tailed writes may hold (key and value bytes plus
   * 96 bytes a key). Past it, tailing pauses, with a 'tailOverflow' event,
   * until newer generations take over half of it. The table only ever holds
   * what the writer has not flushed yet, which a writer at its defaults
   * keeps under about 4 × its `memtableBytes` (64 MiB): hence 256 MiB, so
   * that a reader of such a writer never pauses. Default 256 MiB; at most
   * 1 GiB, since the table keeps its entries in one buffer (`TailEntries`)
   * of at most about twice that, within the 4 GiB a Buffer may hold.
   */
  maxTailBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * MIB)
    .default(256 * MIB),
  /**
   * How long `open` waits for an index that does not exist yet (no
   * directory, or no initialised manifest) before it fails with
   * `ManifestNotFoundError`, for a reader started before its writer. 0 fails
   * at once. Default 0.
   */
  waitForIndex: z.number().int().min(0).max(MAX_TIMER_MS).default(0),
  /** The file system segment and log bytes are read through; tests pass a fault-injecting one. */
  fs: fileSystemSchema.optional(),
});

export type ReadOnlyIndexOptions = z.input<typeof readOnlyIndexOptionsSchema>;
export type ResolvedReadOnlyIndexOptions = Omit<z.output<typeof readOnlyIndexOptionsSchema>, 'fs'> & { readonly fs: FileSystem };

export function resolveReadOnlyIndexOptions(options: unknown): ResolvedReadOnlyIndexOptions {
  const { fs, ...rest } = parseWithSchema(readOnlyIndexOptionsSchema, options ?? {}, 'read-only index options');
  return { ...rest, fs: fs ?? nodeFileSystem };
}
