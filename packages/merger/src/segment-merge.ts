import { dirname } from 'node:path';
import { SiltError, ValidationError, type FileSystem } from '@silt/fs';
import { nativeEntryMerge, type NativeEntryMerge } from '@silt/fs/internal';
import { DEFAULT_BLOCK_SIZE, MAX_DISTINCT_KEYS, SegmentBuilder, SegmentReader, buildPathOf, type EncodedCursor } from '@silt/segments';
import { NewestWinsMerge, describeType } from '@silt/segments/internal';
import { builtSegment, type FlushResult } from './flush-build.js';
import { checkMergePause, pauseMerge, type MergePause } from './merge-pause.js';
import { NativeMergedRun } from './native-merged-run.js';

/** One segment of the run to merge: its file and the sequence range the manifest records for it. */
export interface MergeInput {
  readonly path: string;
  readonly minSequence: number;
  readonly maxSequence: number;
}

/** What a merge asks for: fold a contiguous run of segments into one. */
export interface MergeRequest {
  /** Oldest first, contiguous in the live set: each covers sequences after the one before it. */
  readonly inputs: readonly MergeInput[];
  /** Where to write the merged segment (`<index>/segments/<id>.seg`); must not exist. */
  readonly outputPath: string;
  /** True only when the run reaches the oldest live segment: nothing older is left for a tombstone to hide. */
  readonly dropTombstones: boolean;
  /** For tests: stop at this point until released (see merge-pause.ts). */
  readonly pause?: MergePause;
}

/** Figures every merge reports, written or not. */
export interface MergeFigures {
  readonly minSequence: number;
  readonly maxSequence: number;
  /** Sum of the input files' sizes. */
  readonly inputBytes: number;
  /** Entries (puts and tombstones) in the inputs, shadowed ones included. */
  readonly inputEntries: number;
  /** Tombstones left out of the output (`dropTombstones`). */
  readonly droppedTombstones: number;
  readonly durationMs: number;
}

/** A merge that wrote a segment: commit `remove: inputs, add: [it]`. */
export interface MergedSegment extends FlushResult, MergeFigures {
  readonly empty: false;
}

/**
 * A merge whose every surviving entry was a dropped tombstone: no file was
 * written, so commit just the removal of the inputs.
 */
export interface EmptyMerge extends MergeFigures {
  readonly empty: true;
  /** The output path that was not written. */
  readonly path: string;
  readonly entries: 0;
}

export type MergeResult = MergedSegment | EmptyMerge;

export interface MergeOptions {
  /** Stops the merge at the next entry; the partial output is removed and `MergeAbortedError` thrown. */
  readonly signal?: AbortSignal;
  /**
   * Which loop merges: the addon's (merge.c of @silt/mmap, the default where
   * it is installed) or JavaScript's (where it is not, and for a request
   * that pauses). Both write the same bytes; for tests and benchmarks.
   */
  readonly loop?: 'native' | 'javascript';
}

/** A merge was aborted (its signal, or the pool closing) before it finished; it left no output. */
export class MergeAbortedError extends SiltError {
  readonly code = 'SILT_MERGE_ABORTED';
  readonly outputPath: string;

  constructor(outputPath: string, reason: unknown, options?: ErrorOptions) {
    super(`the merge into ${outputPath} was aborted${describeReason(reason)}; it left no output, and the run can be merged again`, options);
    this.outputPath = outputPath;
  }
}

/** The most distinct keys the output can hold: every input's, as if none were shared (a hint for the builder). */
function expectedKeysOf(readers: ReadonlyArray<SegmentReader<Uint8Array>>): number {
  const sum = readers.reduce((total, reader) => total + reader.stats().distinctKeys, 0);
  return Math.min(sum, MAX_DISTINCT_KEYS);
}

/**
 * Merges a contiguous run of segments into one: each input is streamed in
 * key order from a `file`-mode reader (memory stays bounded: a 256 KiB run
 * of blocks per input, plus the inputs' indexes), the smallest key goes
 * next, and of equal keys the newest input wins: in the addon's loop where
 * it is installed, else in JavaScript's (`MergeOptions.loop`). Tombstones
 * are kept unless `dropTombstones`. The output is fsynced with its directory by the builder.
 * On any failure the partial output is removed before the error propagates.
 */
export async function mergeSegments(fs: FileSystem, request: MergeRequest, options: MergeOptions = {}): Promise<MergeResult> {
  const merge: MergeInProgress = { fs, request, signal: options.signal, started: performance.now(), readers: [] };
  checkMergeRequest(fs, request);
  try {
    for (const input of request.inputs) merge.readers.push(openInput(fs, input));
    const native = options.loop === 'javascript' || request.pause !== undefined ? undefined : nativeEntryMerge();
    return native === undefined ? await mergeEntryByEntry(merge) : await mergeNatively(native, merge);
  } catch (error) {
    if (merge.builder !== undefined) {
      abortQuietly(merge.builder);
      await removePartialOutput(fs, request.outputPath);
    }
    throw error;
  } finally {
    for (const reader of merge.readers) reader.close();
  }
}

/** A merge under way: what it was asked, its open inputs, and its output once it has one. */
interface MergeInProgress {
  readonly fs: FileSystem;
  readonly request: MergeRequest;
  readonly signal: AbortSignal | undefined;
  readonly started: number;
  readonly readers: Array<SegmentReader<Uint8Array>>;
  builder?: SegmentBuilder;
}

/** The merge in JavaScript, an entry at a time; where the addon is missing, and for tests that pause mid-merge. */
async function mergeEntryByEntry(merge: MergeInProgress): Promise<MergeResult> {
  const { request } = merge;
  const run = new MergedRun(merge.readers, request, merge.signal);
  const figures = (): MergeFigures => mergeFigures(merge, run.droppedTombstones);
  let entry = run.next();
  if (entry === undefined) return emptyResult(figures(), request);
  const builder = createOutput(merge);
  const pauseAt = request.pause?.afterEntries ?? -1;
  for (let added = 0; entry !== undefined; entry = run.next(), added++) {
    if (added === pauseAt) await pauseMerge(request.pause!);
    builder.addEncoded(entry.bytes, entry.at);
  }
  return finishOutput(merge, builder, figures);
}

/**
 * The merge in the addon's loop (merge.c of @silt/mmap), a block at a time:
 * the same output, byte for byte, as `mergeEntryByEntry`.
 */
async function mergeNatively(native: NativeEntryMerge, merge: MergeInProgress): Promise<MergeResult> {
  const { request } = merge;
  // Inputs come oldest first; the loop takes them newest first.
  const inputs = merge.readers.map((reader, i) => ({ runs: reader.encodedRuns(), path: request.inputs[i]!.path })).reverse();
  const run = new NativeMergedRun(native, inputs, DEFAULT_BLOCK_SIZE, request.dropTombstones, () => checkNotAborted(merge.signal, request));
  const figures = (): MergeFigures => mergeFigures(merge, run.droppedTombstones);
  let block = run.next();
  if (block === undefined) return emptyResult(figures(), request);
  const builder = createOutput(merge);
  for (; block !== undefined; block = run.next()) builder.addEncodedBlock(block.bytes, block.hashes, block.offsets);
  return finishOutput(merge, builder, figures);
}

function createOutput(merge: MergeInProgress): SegmentBuilder {
  const { request } = merge;
  merge.builder = SegmentBuilder.create(request.outputPath, {
    fs: merge.fs,
    minSequence: request.inputs[0]!.minSequence,
    maxSequence: request.inputs[request.inputs.length - 1]!.maxSequence,
    expectedKeys: expectedKeysOf(merge.readers),
    blockSize: DEFAULT_BLOCK_SIZE,
  });
  return merge.builder;
}

async function finishOutput(merge: MergeInProgress, builder: SegmentBuilder, figures: () => MergeFigures): Promise<MergedSegment> {
  const built = await builder.finish();
  if (merge.signal?.aborted === true) throw new MergeAbortedError(merge.request.outputPath, merge.signal.reason);
  return { ...figures(), ...builtSegment(built), empty: false };
}

/**
 * Removes what a failed merge may have written, and makes the removal
 * durable. Cleanup must not hide the failure that led here, so its own
 * errors are swallowed: a file it could not remove is an orphan, which the
 * index removes on open (the manifest never named it).
 */
export async function removePartialOutput(fs: FileSystem, path: string): Promise<void> {
  // A thread terminated mid-build leaves the build file; one stopped after `finish` left the named one.
  for (const file of [buildPathOf(path), path]) {
    try {
      fs.unlink(file);
    } catch {
      // ENOENT: never created, or the builder already removed it.
    }
  }
  try {
    await fs.syncDirectory(dirname(path));
  } catch {
    // The directory itself may be gone.
  }
}

/** Checks a request's shape and that its output is new, before anything is opened or written. */
export function checkMergeRequest(fs: FileSystem, request: MergeRequest): void {
  if (typeof request !== 'object' || request === null)
    throw new ValidationError(`a merge request must be an object, got ${describeType(request)}`);
  const { inputs, outputPath, dropTombstones, pause } = request;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new ValidationError(`a merge needs at least one input segment, got ${describeType(inputs)}`);
  if (typeof outputPath !== 'string' || outputPath.length === 0)
    throw new ValidationError(`merge outputPath must be a non-empty string, got ${describeType(outputPath)}`);
  if (typeof dropTombstones !== 'boolean')
    throw new ValidationError(`merge dropTombstones must be a boolean, got ${describeType(dropTombstones)}`);
  checkMergePause(pause);
  inputs.forEach((input: MergeInput, i) => checkInput(input, i, i === 0 ? undefined : inputs[i - 1], outputPath));
  if (fs.exists(outputPath)) throw new ValidationError(`merge output ${outputPath} already exists; a merge writes a new segment file only`);
}

function checkInput(input: MergeInput, i: number, previous: MergeInput | undefined, outputPath: string): void {
  if (typeof input !== 'object' || input === null)
    throw new ValidationError(`merge input #${i} must be an object, got ${describeType(input)}`);
  if (typeof input.path !== 'string' || input.path.length === 0)
    throw new ValidationError(`merge input #${i} path must be a non-empty string, got ${describeType(input.path)}`);
  if (input.path === outputPath) throw new ValidationError(`merge input #${i} is the output path ${outputPath}`);
  const { minSequence, maxSequence } = input;
  if (!isSequence(minSequence) || !isSequence(maxSequence) || minSequence > maxSequence) {
    throw new ValidationError(
      `merge input #${i} (${input.path}) needs sequences 0 <= minSequence <= maxSequence, got ${String(minSequence)}..${String(maxSequence)}`,
    );
  }
  if (previous !== undefined && minSequence <= previous.maxSequence) {
    throw new ValidationError(
      `merge inputs must come oldest first with disjoint sequence ranges: #${i} (${input.path}) starts at ${minSequence}, not after #${i - 1}'s ${previous.maxSequence}`,
    );
  }
}

function isSequence(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * For scans only (a merge never probes the hash index) and with no block
 * cache: `encodedEntries` reads each block once, into bytes of its own.
 */
function openInput(fs: FileSystem, input: MergeInput): SegmentReader<Uint8Array> {
  const reader = SegmentReader.openForScan(input.path, { fs, access: 'file', cacheBytes: 0, keyEncoding: 'binary' });
  const stats = reader.stats();
  const problem = stats.multiValue
    ? 'is a multi-value segment, which an index never writes'
    : stats.minSequence !== input.minSequence || stats.maxSequence !== input.maxSequence
      ? `covers sequences ${stats.minSequence}..${stats.maxSequence}, not ${input.minSequence}..${input.maxSequence} as the request says`
      : undefined;
  if (problem === undefined) return reader;
  reader.close();
  throw new ValidationError(`merge input ${input.path} ${problem}`);
}

/**
 * The inputs merged into one ascending stream, one entry per key (the
 * newest), tombstones dropped if asked. `next()` returns undefined at the end.
 */
class MergedRun {
  private readonly merge: NewestWinsMerge<EncodedCursor>;
  private dropped = 0;

  constructor(
    readers: ReadonlyArray<SegmentReader<Uint8Array>>,
    private readonly request: MergeRequest,
    private readonly signal: AbortSignal | undefined,
  ) {
    // Inputs come oldest first; the merge takes its streams newest first.
    this.merge = new NewestWinsMerge(readers.map((reader) => reader.encodedCursor()).reverse());
  }

  get droppedTombstones(): number {
    return this.dropped;
  }

  /**
   * The cursor on the next entry, as its block encodes it (the builder
   * copies it whole, flags and all: a string value stays text); it stays
   * there until the next call.
   */
  next(): EncodedCursor | undefined {
    for (let entry = this.newestOfNextKey(); entry !== undefined; entry = this.newestOfNextKey()) {
      if (!entry.tombstone || !this.request.dropTombstones) return entry;
      this.dropped++;
    }
    return undefined;
  }

  private newestOfNextKey(): EncodedCursor | undefined {
    checkNotAborted(this.signal, this.request);
    return this.merge.next();
  }
}

function checkNotAborted(signal: AbortSignal | undefined, request: MergeRequest): void {
  if (signal?.aborted === true) throw new MergeAbortedError(request.outputPath, signal.reason);
}

function mergeFigures({ readers, request, started }: MergeInProgress, droppedTombstones: number): MergeFigures {
  return {
    minSequence: request.inputs[0]!.minSequence,
    maxSequence: request.inputs[request.inputs.length - 1]!.maxSequence,
    inputBytes: readers.reduce((sum, reader) => sum + reader.stats().bytes, 0),
    inputEntries: readers.reduce((sum, reader) => sum + reader.stats().entries, 0),
    droppedTombstones,
    durationMs: performance.now() - started,
  };
}

function emptyResult(figures: MergeFigures, request: MergeRequest): EmptyMerge {
  return { ...figures, empty: true, path: request.outputPath, entries: 0 };
}

function abortQuietly(builder: SegmentBuilder): void {
  try {
    builder.abort();
  } catch {
    // Already failed, finished or aborted: the file is removed below either way.
  }
}

function describeReason(reason: unknown): string {
  if (reason === undefined) return '';
  return `: ${reason instanceof Error ? reason.message : String(reason)}`;
}
