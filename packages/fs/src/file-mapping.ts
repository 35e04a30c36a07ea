import { createRequire } from 'node:module';

/** What @silt/fs uses of @silt/mmap, an optional dependency: an install without a C compiler lacks it. */
interface MmapModule {
  mapFileReadOnly(path: string): Buffer;
  positionedRead(): PositionedRead | undefined;
  fastCrc32(): ((bytes: Uint8Array) => number) | undefined;
  nativeMergeEntries(): MergeEntries | undefined;
  readonly MERGE_STATE: MergeStateLayout;
  readonly MERGE_STATUS: MergeStatuses;
  mmapSupport(): { readonly available: true } | { readonly available: false; readonly reason: string };
}

/** Whether this process can map files (`FileSystem.mapFile`), and if not, why. */
export type FileMappingSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

let mmap: MmapModule | Error | undefined;

function mmapModule(): MmapModule | Error {
  if (mmap !== undefined) return mmap;
  try {
    // Loaded on first use, synchronously, and only if installed: @silt/fs must load without it.
    mmap = createRequire(import.meta.url)('@silt/mmap') as MmapModule;
  } catch (error) {
    mmap = error instanceof Error ? error : new Error(String(error));
  }
  return mmap;
}

export function fileMappingSupport(): FileMappingSupport {
  const found = mmapModule();
  if (found instanceof Error) return { available: false, reason: `@silt/mmap is not installed (${found.message.split('\n')[0]})` };
  return found.mmapSupport();
}

/** The file mapped read-only and shared (see `FileSystem.mapFile`), or undefined where this process cannot map files. */
export function mapFileIfSupported(path: string): Uint8Array | undefined {
  const found = mmapModule();
  if (found instanceof Error || !found.mmapSupport().available) return undefined;
  return found.mapFileReadOnly(path);
}

/** Reads at a position of an open file: the count read, fewer than `target.length` only at end of file (or a short read). */
export type PositionedRead = (fd: number, target: Uint8Array, position: number) => number;

/** The addon's `pread` (one system call, no node:fs argument checks), or undefined where it is not installed or not offered. */
export function nativePositionedRead(): PositionedRead | undefined {
  return fromAddon((found) => found.positionedRead());
}

/** The addon's CRC-32 (PCLMULQDQ), or undefined where it is not installed or the CPU cannot fold. */
export function nativeCrc32(): ((bytes: Uint8Array) => number) | undefined {
  return fromAddon((found) => found.fastCrc32());
}

/**
 * merge.c's call of @silt/mmap (its merge-entries.ts says what each argument
 * holds). Declared again here, as the rest of MmapModule is, so that
 * @silt/fs's types hold where the optional @silt/mmap is not installed.
 */
export type MergeEntries = (
  runs: readonly Uint8Array[],
  state: Int32Array,
  output: Uint8Array,
  hashes: Uint32Array,
  offsets: Uint32Array,
  blockEnds: Uint32Array,
  blockSize: number,
  dropTombstones: boolean,
) => number;

/** Where `MergeEntries` keeps its state: Int32Array indexes (@silt/mmap's MERGE_STATE). */
export type MergeStateLayout = Readonly<
  Record<'outputLength' | 'blockStart' | 'blocks' | 'entries' | 'dropped' | 'detail' | 'lastEntry' | 'cursors', number>
>;

/** What `MergeEntries` returns (@silt/mmap's MERGE_STATUS). */
export type MergeStatuses = Readonly<Record<'done' | 'input' | 'room' | 'order' | 'malformed', number>>;

/** The addon's merge loop with its state layout and statuses. */
export interface NativeEntryMerge {
  readonly mergeEntries: MergeEntries;
  readonly state: MergeStateLayout;
  readonly status: MergeStatuses;
}

/** The addon's merge loop (merge.c), or undefined where @silt/mmap is not installed or did not build. */
export function nativeEntryMerge(): NativeEntryMerge | undefined {
  return fromAddon((found) => {
    const mergeEntries = found.nativeMergeEntries();
    return mergeEntries === undefined ? undefined : { mergeEntries, state: found.MERGE_STATE, status: found.MERGE_STATUS };
  });
}

/** What `pick` takes from @silt/mmap, or undefined where it is not installed. */
function fromAddon<T>(pick: (found: MmapModule) => T | undefined): T | undefined {
  const found = mmapModule();
  return found instanceof Error ? undefined : pick(found);
}
