import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  ClosedError,
  CorruptionError,
  IoError,
  MANIFEST_FILE,
  SEGMENTS_DIRECTORY,
  segmentIdOfFileName,
  ValidationError,
  type FileSystem,
} from '@silt/fs';
import {
  GenerationNotFoundError,
  IndexDamagedError,
  Manifest,
  ManifestNotFoundError,
  type Generation,
  type Key,
  type Lease,
  type SegmentRecord,
  type Value,
} from '@silt/segments';
import { filesNewerThanManifest } from '@silt/segments/internal';
import { KeyValueReads } from './key-value-reads.js';
import { ManifestWatcher } from './manifest-watcher.js';
import { MergedView } from './merged-view.js';
import type { FuzzyOptions, NearOptions, RangeOptions } from './read-options.js';
import { resolveReadOnlyIndexOptions, type ReadOnlyIndexOptions, type ResolvedReadOnlyIndexOptions } from './read-only-index-options.js';
import { RetiredReaders } from './retired-readers.js';
import { SegmentStack } from './segment-stack.js';

export interface ReadOnlyIndexEvents {
  /** A newer generation is being served; `change` says which segments it added and removed. */
  refresh: [generation: number, change: RefreshChange];
  /** A background refresh failed; reads go on from the generation served before. */
  error: [error: Error];
}

/** What a refresh changed, from the manifest rows of the two generations: no second look at the manifest needed. */
export interface RefreshChange {
  /** The generation served before. */
  readonly previous: number;
  /** The live segments of the generation now served, oldest first. */
  readonly segments: readonly SegmentRecord[];
  /** Segments the previous generation did not have: a flush's output, or a merge's. */
  readonly added: readonly SegmentRecord[];
  /** Segments of the previous generation this one dropped: a merge's inputs. */
  readonly removed: readonly SegmentRecord[];
}

/**
 * Tries at opening the newest generation when its files vanish underneath
 * (a collector that ignored this reader's lease); each try starts again
 * from the generation that is newest by then.
 */
const OPEN_ATTEMPTS = 5;

/**
 * A reader of an index directory, in any process, beside its one writer
 * (or with none running). It serves one generation of the manifest at a
 * time, a consistent snapshot, and moves to a newer one when the writer
 * commits (told by file-system events on the manifest, a safety poll, or
 * `refresh()`), opening only the new segments. It leases the generation it
 * serves so the collector keeps its files, and never takes the writer lock.
 */
export class ReadOnlyIndex extends EventEmitter<ReadOnlyIndexEvents> implements AsyncDisposable {
  private readonly reads: KeyValueReads;
  private readonly retired = new RetiredReaders();
  private view: MergedView;
  private watcher: ManifestWatcher | undefined;
  private closing: Promise<void> | undefined;
  /** The refresh running or last run: see `serially`. */
  private queue: Promise<unknown> = Promise.resolve();
  /** A damaged generation a background refresh could not open: not tried again until a newer one appears. */
  private failedGeneration = -1;

  private constructor(
    readonly directory: string,
    private readonly manifest: Manifest,
    private readonly held: HeldLease,
    private stack: SegmentStack,
    /** The manifest's rows for the generation served. */
    private served: Generation,
    options: ResolvedReadOnlyIndexOptions,
  ) {
    super();
    this.view = new MergedView(stack.sources);
    this.reads = new KeyValueReads(options.keyEncoding, () => {
      this.checkOpen();
      return this.view;
    });
  }

  /**
   * Opens the current generation of the index in `directory`. A missing
   * index is a `ManifestNotFoundError`; damage is an `IndexDamagedError`
   * (a `CorruptionError`) naming it and pointing to `silt repair`: a
   * damaged manifest or segment, a live segment's file missing, a segment
   * file newer than the manifest, or a manifest missing or empty beside
   * segment files. Nothing is written but this reader's lease.
   */
  static async open(directory: string, options?: ReadOnlyIndexOptions): Promise<ReadOnlyIndex> {
    const resolved = resolveReadOnlyIndexOptions(options);
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new ValidationError(`ReadOnlyIndex.open needs a directory path, got ${JSON.stringify(directory)}`);
    }
    const manifestPath = join(directory, MANIFEST_FILE);
    if (!resolved.fs.exists(directory)) throw new ManifestNotFoundError(manifestPath, 'the index directory does not exist');
    // Listed before the manifest is read: a file created after it has an id the manifest already handed out.
    const segmentNames = listSegmentFiles(resolved.fs, directory);
    const manifest = openManifest(manifestPath, directory, segmentNames);
    let index: ReadOnlyIndex;
    let held: HeldLease | undefined;
    try {
      refuseFilesNewerThan(manifest, directory, segmentNames);
      held = { lease: manifest.takeLease() };
      const { opened: stack, generation } = await openLeased(manifest, held, (leased) => SegmentStack.open(directory, leased, resolved));
      index = new ReadOnlyIndex(directory, manifest, held, stack, generation, resolved);
    } catch (error) {
      try {
        if (held !== undefined) manifest.dropLease(held.lease.id);
      } finally {
        manifest.close();
      }
      throw asIndexDamage(error, directory, held?.lease.generation);
    }
    if (!resolved.watch) return index;
    try {
      index.watcher = await ManifestWatcher.start(directory, {
        debounceMs: resolved.debounceMs,
        pollIntervalMs: resolved.pollIntervalMs,
        check: () => index.refreshInBackground(),
        report: (error) => index.report(error),
      });
    } catch (error) {
      await index.close();
      throw error;
    }
    // A commit between the first read and the watcher being ready raised no event.
    await index.refreshInBackground();
    return index;
  }

  /** The manifest generation this reader serves. */
  get generation(): number {
    return this.stack.generation;
  }

  /** The live segments of the generation served, oldest first, as the manifest records them. */
  get segments(): readonly SegmentRecord[] {
    return this.served.segments;
  }

  /** Whether the generation served is the manifest's current one: one indexed read. */
  isCurrent(): boolean {
    this.checkOpen();
    return this.manifest.currentGeneration() === this.stack.generation;
  }

  /**
   * Moves to the manifest's current generation if it is newer, reusing the
   * open readers of segments it shares with the one served; resolves with
   * the generation served after. On failure the generation served before
   * stays.
   */
  async refresh(): Promise<number> {
    this.checkOpen();
    await this.serially(() => this.advance());
    return this.stack.generation;
  }

  get(key: Key): Value | undefined {
    return this.reads.get(key);
  }

  has(key: Key): boolean {
    return this.reads.has(key);
  }

  /**
   * Live entries in key order (or reverse) within the bounds, from the
   * generation served when it was made, to the end, even if the reader
   * refreshes meanwhile.
   */
  range(options?: RangeOptions): IterableIterator<[Key, Value]> {
    const generation = this.stack.generation;
    return this.retired.pin(generation, this.reads.range(options));
  }

  /** Keys sharing the longest prefix with `key` (keyvi's GetNear), with their values. */
  near(key: Key, options?: NearOptions): Array<[Key, Value]> {
    return this.reads.near(key, options);
  }

  /** Keys within `maxEdits` edits (Levenshtein, by character) of `key` (keyvi's GetFuzzy), in key order. */
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[Key, Value]> {
    return this.reads.fuzzy(key, maxEdits, options);
  }

  /** Stops watching, closes every file, drops the lease. Idempotent; reads after it throw `ClosedError`. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ----

  /**
   * Runs refreshes one after another: one started while another loads a
   * segment checks again once that one is done, so a commit made meanwhile
   * is not missed.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Serves the current generation if it is newer; true when it moved. New
   * `memory`-mode segments are read a slice per event-loop turn, and reads
   * go on from the generation served until the new one is whole.
   */
  private async advance(current = this.manifest.currentGeneration()): Promise<boolean> {
    if (this.closing !== undefined || current === this.stack.generation) return false;
    const previous = this.stack;
    const before = this.served;
    this.held.lease = moveLease(this.manifest, this.held.lease);
    const { opened, generation } = await openLeased(this.manifest, this.held, (leased) => previous.advanceInTurns(leased));
    const { stack, retired } = opened;
    if (this.closing !== undefined) {
      // Closed while the segments loaded: what this refresh opened is not needed (closing twice is harmless).
      stack.close();
      return false;
    }
    this.stack = stack;
    this.served = generation;
    this.view = new MergedView(stack.sources);
    this.retired.retire(previous.generation, retired);
    this.emit('refresh', stack.generation, changeBetween(before, generation));
    return true;
  }

  /**
   * The watcher's check: never rejects; a failure goes to 'error'. A
   * damaged generation is not tried again (it stays damaged); anything
   * else, such as an I/O error, is tried again at the next event or poll.
   */
  private refreshInBackground(): Promise<boolean> {
    return this.serially(async () => {
      let current = -1;
      try {
        if (this.closing !== undefined) return false;
        current = this.manifest.currentGeneration();
        if (current === this.failedGeneration) return false;
        return await this.advance(current);
      } catch (error) {
        if (error instanceof CorruptionError) this.failedGeneration = current;
        this.report(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
    });
  }

  /** 'error' only when someone listens: a background failure must never crash the process. */
  private report(error: Error): void {
    if (this.closing === undefined && this.listenerCount('error') > 0) this.emit('error', error);
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new ClosedError('the read-only index');
  }

  private async shutDown(): Promise<void> {
    try {
      await this.watcher?.close();
      await this.queue;
    } finally {
      this.retired.closeAll();
      this.stack.close();
      try {
        this.manifest.dropLease(this.held.lease.id);
      } finally {
        this.manifest.close();
      }
    }
  }
}

/** The lease a reader holds; a retry moves it (or replaces a reclaimed one). */
interface HeldLease {
  lease: Lease;
}

/**
 * Opens the generation `held` leases with `open`. The lease comes first, so
 * the collector keeps the files while they are opened (those of the
 * generation served before are open already, and stay readable once
 * unlinked). If a file is gone anyway, the lease moves to the newest
 * generation and that one is tried.
 */
async function openLeased<Opened>(
  manifest: Manifest,
  held: HeldLease,
  open: (generation: Generation) => Opened | Promise<Opened>,
): Promise<{ opened: Opened; generation: Generation }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const generation = manifest.generationAt(held.lease.generation);
      return { opened: await open(generation), generation };
    } catch (error) {
      if (attempt >= OPEN_ATTEMPTS || !isVanished(error)) throw error;
    }
    held.lease = moveLease(manifest, held.lease);
  }
}

function changeBetween(before: Generation, after: Generation): RefreshChange {
  const beforeIds = new Set(before.segments.map((segment) => segment.id));
  const afterIds = new Set(after.segments.map((segment) => segment.id));
  return {
    previous: before.generation,
    segments: after.segments,
    added: after.segments.filter((segment) => !beforeIds.has(segment.id)),
    removed: before.segments.filter((segment) => !afterIds.has(segment.id)),
  };
}

/** Moves the lease; if it was reclaimed (its pid looked dead from another pid namespace), takes a new one. */
function moveLease(manifest: Manifest, lease: Lease): Lease {
  try {
    return manifest.moveLease(lease.id);
  } catch (error) {
    if (error instanceof ValidationError) return manifest.takeLease();
    throw error;
  }
}

/** A file of the generation, or the generation itself, was collected while it was being opened. */
function isVanished(error: unknown): boolean {
  return (error instanceof IoError && error.errno === 'ENOENT') || error instanceof GenerationNotFoundError;
}

/**
 * The manifest as a reader. A missing or empty manifest is no index
 * (`ManifestNotFoundError`) unless `segments/` holds segment files: then
 * it was lost, and the files are evidence of an index to repair.
 */
function openManifest(manifestPath: string, directory: string, segmentNames: readonly string[]): Manifest {
  try {
    return Manifest.open(manifestPath, { role: 'reader' });
  } catch (error) {
    const segments = segmentNames.filter((name) => segmentIdOfFileName(name) !== undefined).length;
    if (error instanceof ManifestNotFoundError && segments > 0) {
      throw new IndexDamagedError(directory, [
        `${MANIFEST_FILE} is missing or empty, but segments/ holds ${segments} segment file(s): the manifest was lost`,
      ]);
    }
    throw asIndexDamage(error, directory, undefined);
  }
}

/**
 * Damage found while opening, said as `Index.open` says it: an
 * `IndexDamagedError` naming it and pointing to `silt repair`. A live
 * segment's file still missing after every retry is damage too.
 */
function asIndexDamage(error: unknown, directory: string, generation: number | undefined): unknown {
  if (error instanceof IoError && error.errno === 'ENOENT' && error.path !== undefined && generation !== undefined) {
    return new IndexDamagedError(directory, [`${error.path} is live in generation ${generation} but the file is missing`], {
      file: error.path,
      offset: undefined,
      cause: error,
    });
  }
  return IndexDamagedError.from(error, directory);
}

function listSegmentFiles(fs: FileSystem, directory: string): string[] {
  const segments = join(directory, SEGMENTS_DIRECTORY);
  return fs.exists(segments) ? fs.list(segments) : [];
}

/**
 * A segment file whose id the manifest never handed out means the manifest
 * is behind its files (lost, rolled back, or replaced): serving its
 * generation would serve old values as current.
 */
function refuseFilesNewerThan(manifest: Manifest, directory: string, names: readonly string[]): void {
  const problems = filesNewerThanManifest(names, manifest.nextSegmentId());
  if (problems.length > 0) throw new IndexDamagedError(directory, problems);
}
