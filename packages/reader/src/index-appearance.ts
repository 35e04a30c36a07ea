import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { CancelTimer, Clock, FileSystem } from '@silt/fs';
import { ManifestNotFoundError } from '@silt/segments';

/** Tries at least this often while waiting, events or not: a try is a stat and, once there is a manifest, one SQLite open. */
const RETRY_POLL_MS = 100;

export interface IndexAppearanceOptions {
  /** How long to wait in all; 0 tries once. */
  readonly waitMs: number;
  readonly clock: Clock;
  readonly fs: FileSystem;
}

/**
 * Opens an index that may not exist yet: `open` is tried, and while it
 * fails with `ManifestNotFoundError` it is tried again whenever the index
 * directory (or, while that is missing, its parent) changes, and at least
 * every 100 ms, until `waitMs` has passed. Then the last failure is thrown,
 * saying how long it waited. pm2 and the like start a reader and its writer
 * in any order.
 */
export async function openWhenIndexAppears<T>(directory: string, options: IndexAppearanceOptions, open: () => Promise<T>): Promise<T> {
  const deadline = options.clock.now() + options.waitMs;
  const watch = new DirectoryChanges(resolve(directory), options.fs);
  try {
    for (;;) {
      try {
        return await open();
      } catch (error) {
        if (!(error instanceof ManifestNotFoundError) || options.waitMs === 0) throw error;
        const remaining = deadline - options.clock.now();
        if (remaining <= 0) throw waitedFor(error, options.waitMs);
        // A change made before a new watch was ready raised no event: try again at once, then wait.
        if (await watch.follow()) continue;
        await watch.next(Math.min(remaining, RETRY_POLL_MS), options.clock);
      }
    }
  } finally {
    await watch.close();
  }
}

/** The same error, its message saying how long it was waited for. */
function waitedFor(error: ManifestNotFoundError, waitMs: number): ManifestNotFoundError {
  const prefix = `no manifest at ${error.path}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const waited = new ManifestNotFoundError(error.path, `${detail} (waited ${waitMs} ms for the index to appear)`);
  waited.cause = error;
  return waited;
}

/**
 * Changes in the index directory, or in its parent while the directory is
 * missing (only those naming the directory): a chokidar watch of the
 * directory alone, its entries ignored, as the reader's other watchers do.
 */
class DirectoryChanges {
  private watcher: FSWatcher | undefined;
  private watched: string | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly directory: string,
    private readonly fs: FileSystem,
  ) {}

  /**
   * Watches the directory if it exists, else its parent if that does;
   * resolves once events flow, with true if it started a new watch.
   */
  async follow(): Promise<boolean> {
    const target = this.fs.exists(this.directory) ? this.directory : dirname(this.directory);
    if (target === this.watched || !this.fs.exists(target)) return false;
    await this.close();
    const watcher = watch(target, {
      persistent: false,
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => resolve(path) !== target,
    });
    watcher.on('raw', (_event: string, path: string | null | undefined) => {
      if (target === this.directory || path === null || path === undefined || basename(path) === basename(this.directory)) this.signal();
    });
    // A watch that fails leaves the poll; the next try says what is wrong, if anything.
    watcher.on('error', () => undefined);
    this.watcher = watcher;
    this.watched = target;
    await new Promise<void>((ready) => watcher.once('ready', ready));
    return true;
  }

  /** Resolves at the first change since the last call, or after `delay` ms of the clock. */
  async next(delay: number, clock: Clock): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return;
    }
    let cancel: CancelTimer | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      cancel = clock.setTimer(delay, resolve);
    });
    cancel?.();
    this.wake = undefined;
    this.changed = false;
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    this.watched = undefined;
    await watcher?.close();
  }

  private signal(): void {
    this.changed = true;
    this.wake?.();
  }
}
