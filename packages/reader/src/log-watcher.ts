import { watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, WAL_DIRECTORY, type CancelTimer, type Clock, type FileSystem } from '@silt/fs';

/** Whether a watch sees every change made after `fs.watch` returns (inotify). */
const WATCH_IS_IMMEDIATE = process.platform === 'linux';

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
 * It watches the directory itself and picks the marker out of its events,
 * as `ManifestWatcher` does for the manifest (a watch on a file would open
 * a descriptor on it on macOS), but with node's `fs.watch`, the primitive
 * chokidar wraps, rather than chokidar: after every burst of events
 * chokidar re-lists the directory it watches (a readdir and an lstat per
 * entry), back to back for as long as events keep coming, and the log
 * directory changes at every group commit. Under 20,000 writes/s that
 * cost each reader about 40% of a core; the raw watch costs nothing per
 * event but the wake-up. A log directory that does not exist yet (a reader
 * that opened between the writer's manifest and its log) is waited for by
 * a watch on the index directory, and the poll.
 *
 * Timers (the clock's) and the watches are unref'd: an open reader does not
 * keep a process alive.
 */
export class LogWatcher {
  private logWatch: FSWatcher | undefined;
  private directoryWatch: FSWatcher | undefined;
  private cancelPoll: CancelTimer | undefined;
  private wakeQueued = false;
  private paused = false;
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

  /**
   * Starts watching the log of the index in `indexDirectory`; events flow
   * once this returns. A watch that cannot be set up (an inotify limit, say)
   * is reported, and the poll stands in.
   */
  static start(indexDirectory: string, options: LogWatcherOptions): LogWatcher {
    const owner = new LogWatcher(indexDirectory, options);
    owner.pollIn(options.pollIntervalMs);
    if (owner.logExists()) owner.watchLog();
    else owner.watchForLog();
    return owner;
  }

  /** Whether events come from the log directory itself (it exists and is watched). */
  get watchingLog(): boolean {
    return this.logWatch !== undefined;
  }

  /**
   * Stops the log directory's events until `resume`; the poll goes on. An
   * owner that applies the log only when it is read learns nothing from a
   * second event before that read, and each event wakes its process: a
   * process that writes seldom would otherwise wake at every group commit
   * of the writer. Linux only, where a watch is in place once `fs.watch`
   * returns (inotify); macOS's FSEvents stream starts a moment later, so a
   * commit between a resume and the owner's read could go unseen until the
   * poll. Elsewhere the watch stays open and this does nothing.
   */
  pause(): void {
    if (!WATCH_IS_IMMEDIATE || this.paused || this.closed) return;
    this.paused = true;
    this.logWatch?.close();
    this.logWatch = undefined;
  }

  /**
   * Watches the log directory again, without a wake-up: the owner reads the
   * log right after this, and any commit after it is an event.
   */
  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    if (this.logExists()) this.watchLog(false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelPoll?.();
    this.logWatch?.close();
    this.directoryWatch?.close();
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
      if (this.logWatch === undefined && !this.paused && this.logExists()) this.watchLog();
      this.options.wake();
    });
  }

  private logExists(): boolean {
    return this.options.fs.exists(this.logDirectory);
  }

  /** Watches the log directory; the index directory's watch (if any) goes, and the owner reads what came before (if `wake`). */
  private watchLog(wake = true): void {
    if (this.logWatch !== undefined || this.paused || this.closed) return;
    // A platform that does not name the file gets a wake-up for every event.
    this.logWatch = this.watchDirectory(this.logDirectory, (name) => {
      if (name === null || name === LOG_ACKNOWLEDGED_FILE) this.changed();
    });
    if (this.logWatch === undefined) return;
    this.directoryWatch?.close();
    this.directoryWatch = undefined;
    if (wake) this.changed();
  }

  /** No log directory yet: the index directory's events say when it appears. */
  private watchForLog(): void {
    this.directoryWatch = this.watchDirectory(this.indexDirectory, (name) => {
      if ((name === null || name === WAL_DIRECTORY) && this.logExists()) this.watchLog();
    });
    // Created between the check and the watch: no event came for it.
    if (this.logExists()) this.watchLog();
  }

  /**
   * A watch of `directory` (not recursive, not keeping the process alive),
   * calling `changed` with the name of each entry an event is about, in
   * place when this returns; undefined if it could not be set up. A watch
   * that fails later (its directory deleted, say) is closed. Failures are
   * reported; the poll goes on, and watches the log again once it can.
   */
  private watchDirectory(directory: string, changed: (name: string | null) => void): FSWatcher | undefined {
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, { persistent: false }, (_event, name) => changed(name));
    } catch (error) {
      this.report(error);
      return undefined;
    }
    watcher.on('error', (error: unknown) => {
      watcher.close();
      if (this.logWatch === watcher) this.logWatch = undefined;
      if (this.directoryWatch === watcher) this.directoryWatch = undefined;
      this.report(error);
    });
    return watcher;
  }

  private report(error: unknown): void {
    if (!this.closed) this.options.report(error instanceof Error ? error : new Error(String(error)));
  }
}
