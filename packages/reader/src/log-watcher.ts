import { basename, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { LOG_ACKNOWLEDGED_FILE, WAL_DIRECTORY, type CancelTimer, type Clock, type FileSystem } from '@silt/fs';

export interface LogWatcherOptions {
  /** Checks whether the log directory exists yet. */
  readonly fs: FileSystem;
  readonly pollIntervalMs: number;
  /** Times the safety poll. */
  readonly clock: Clock;
  /** Reads what the log holds now. Must not throw. */
  readonly wake: () => void;
  /** A watcher failure; the safety poll goes on. */
  readonly report: (error: Error) => void;
}

/**
 * Tells its owner when the writer may have acknowledged more of the log:
 * chokidar events on the log directory (`<index>/wal/`) naming the
 * acknowledged marker, which the writer rewrites after each group commit,
 * and a slow safety poll.
 *
 * There is no debounce: a reader must show a write within milliseconds of
 * its acknowledgement. Events are only coalesced: those of one event-loop
 * turn (the log write and the marker write of a group commit, or many
 * commits' while the owner was busy) make one wake-up, on the next turn.
 *
 * It watches the directory itself, every entry ignored, and picks the
 * marker out of the directory's raw events, as `ManifestWatcher` does for
 * the manifest and for the same reason: a watch on a file opens a
 * descriptor on it on macOS. A log directory that does not exist yet (a
 * reader that opened between the writer's manifest and its log) is waited
 * for by a watch on the index directory, and the poll.
 *
 * Timers (the clock's) and the watches are unref'd: an open reader does not
 * keep a process alive.
 */
export class LogWatcher {
  private logWatch: FSWatcher | undefined;
  private directoryWatch: FSWatcher | undefined;
  private starting: Promise<void> | undefined;
  private cancelPoll: CancelTimer | undefined;
  private wakeQueued = false;
  private closed = false;
  private readonly indexDirectory: string;
  private readonly logDirectory: string;

  private constructor(
    indexDirectory: string,
    private readonly options: LogWatcherOptions,
  ) {
    this.indexDirectory = resolve(indexDirectory);
    this.logDirectory = join(this.indexDirectory, WAL_DIRECTORY);
  }

  /** Starts watching the log of the index in `indexDirectory` and resolves once events are flowing. */
  static async start(indexDirectory: string, options: LogWatcherOptions): Promise<LogWatcher> {
    const owner = new LogWatcher(indexDirectory, options);
    owner.pollIn(options.pollIntervalMs);
    try {
      if (owner.logExists()) await owner.watchLog();
      else await owner.watchForLog();
    } catch (error) {
      await owner.close();
      throw error;
    }
    return owner;
  }

  /** Whether events come from the log directory itself (it exists and is watched). */
  get watchingLog(): boolean {
    return this.logWatch !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelPoll?.();
    await this.starting?.catch(() => undefined);
    await Promise.all([this.logWatch?.close(), this.directoryWatch?.close()]);
  }

  /** Wakes the owner on the next turn, once for every event until then. */
  private changed(): void {
    if (this.wakeQueued || this.closed) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      if (!this.closed) this.options.wake();
    });
  }

  /** The safety poll: a wake-up every `pollIntervalMs`, events or not; it also notices a log directory that appeared unseen. */
  private pollIn(delay: number): void {
    this.cancelPoll = this.options.clock.setTimer(delay, () => {
      if (this.closed) return;
      this.pollIn(this.options.pollIntervalMs);
      if (this.logWatch === undefined && this.logExists()) this.startWatchingLog();
      this.options.wake();
    });
  }

  private logExists(): boolean {
    return this.options.fs.exists(this.logDirectory);
  }

  /** Watches the log directory; once ready, the directory watch (if any) goes and the owner reads what came meanwhile. */
  private startWatchingLog(): void {
    this.starting ??= this.watchLog()
      .then(() => this.changed())
      .catch((error: unknown) => {
        this.starting = undefined;
        this.options.report(error instanceof Error ? error : new Error(String(error)));
      });
  }

  private async watchLog(): Promise<void> {
    const watcher = watchDirectoryAlone(this.logDirectory);
    watcher.on('raw', (_event: string, path: string | null | undefined) => {
      // A platform that does not name the file gets a wake-up for every event.
      if (path === null || path === undefined || basename(path) === LOG_ACKNOWLEDGED_FILE) this.changed();
    });
    watcher.on('error', (error: unknown) => this.options.report(error instanceof Error ? error : new Error(String(error))));
    await new Promise<void>((ready) => watcher.once('ready', ready));
    if (this.closed) {
      await watcher.close();
      return;
    }
    this.logWatch = watcher;
    const waiting = this.directoryWatch;
    this.directoryWatch = undefined;
    await waiting?.close();
  }

  /** No log directory yet: the index directory's events say when it appears. */
  private async watchForLog(): Promise<void> {
    const watcher = watchDirectoryAlone(this.indexDirectory);
    this.directoryWatch = watcher;
    watcher.on('raw', (_event: string, path: string | null | undefined) => {
      if ((path === null || path === undefined || basename(path) === WAL_DIRECTORY) && this.logExists()) this.startWatchingLog();
    });
    watcher.on('error', (error: unknown) => this.options.report(error instanceof Error ? error : new Error(String(error))));
    await new Promise<void>((ready) => watcher.once('ready', ready));
    // Created between the check and the watch being ready: no event came for it.
    if (this.logExists()) this.startWatchingLog();
  }
}

/** A chokidar watch of `directory` alone (see `ManifestWatcher`): every entry ignored, its raw events still reported. */
function watchDirectoryAlone(directory: string): FSWatcher {
  const root = resolve(directory);
  return watch(root, {
    persistent: false,
    ignoreInitial: true,
    depth: 0,
    ignored: (path: string) => resolve(path) !== root,
  });
}
