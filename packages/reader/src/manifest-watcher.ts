import { basename, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { CancelTimer, Clock } from '@silt/fs';
import { MANIFEST_FILE, MANIFEST_JOURNAL_FILE } from '@silt/fs';

/** The files a commit writes: the manifest's journal, and the database itself on a checkpoint. */
const COMMIT_FILES: ReadonlySet<string> = new Set([MANIFEST_FILE, MANIFEST_JOURNAL_FILE]);

/**
 * After an event that found nothing new, checks go on at doubling delays up
 * to this long: SQLite writes a commit's WAL frames (the event) before it
 * fsyncs them and publishes the commit in shared memory (no event), so a
 * check right after the event can be too early by one fsync.
 */
const FOLLOW_UP_LIMIT_MS = 1000;

export interface ManifestWatcherOptions {
  readonly debounceMs: number;
  readonly pollIntervalMs: number;
  /** Times the debounce, the follow-up checks and the poll. */
  readonly clock: Clock;
  /** Looks for a newer generation and serves it; true when it found one. Must not reject. */
  readonly check: () => Promise<boolean>;
  /** A watcher failure; the safety poll goes on. */
  readonly report: (error: Error) => void;
}

/**
 * Tells its owner when the manifest may have a newer generation: chokidar
 * events on the manifest files, debounced, and a slow safety poll.
 *
 * It watches the index directory itself, ignoring every entry in it, and
 * picks the manifest files out of the directory's raw events. Watching the
 * files one by one would, on macOS, open a descriptor on each (kqueue), and
 * closing any descriptor of a file drops every POSIX lock the process holds
 * on it: SQLite's locks of a writer in the same process included (see
 * @silt/segments MANIFEST.md, "Hazards"). A directory watch opens nothing in
 * it (inotify on Linux, FSEvents on macOS) and still reports every change of
 * a file inside.
 *
 * Timers (the clock's) and the watch are unref'd: an open reader does not
 * keep a process alive, as an open file does not.
 */
export class ManifestWatcher {
  private cancelCheck: CancelTimer | undefined;
  private cancelPoll: CancelTimer | undefined;
  private dueAt = 0;
  private followUpMs = 0;
  private closed = false;

  private constructor(
    private readonly options: ManifestWatcherOptions,
    private readonly watcher: FSWatcher,
  ) {}

  /** Starts watching `directory` and resolves once events are flowing. */
  static async start(directory: string, options: ManifestWatcherOptions): Promise<ManifestWatcher> {
    const root = resolve(directory);
    const watcher = watch(root, {
      persistent: false,
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => resolve(path) !== root,
    });
    const owner = new ManifestWatcher(options, watcher);
    owner.pollIn(options.pollIntervalMs);
    watcher.on('raw', (_event: string, path: string) => {
      if (COMMIT_FILES.has(basename(path))) owner.changed();
    });
    watcher.on('error', (error: unknown) => options.report(error instanceof Error ? error : new Error(String(error))));
    await new Promise<void>((ready) => watcher.once('ready', ready));
    return owner;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelPoll?.();
    this.cancelCheck?.();
    await this.watcher.close();
  }

  /** The safety poll: a check every `pollIntervalMs`, events or not. */
  private pollIn(delay: number): void {
    this.cancelPoll = this.options.clock.setTimer(delay, () => {
      if (this.closed) return;
      this.pollIn(this.options.pollIntervalMs);
      void this.options.check();
    });
  }

  /** An event: check in `debounceMs`, coalescing the other events of the same commit. */
  private changed(): void {
    this.followUpMs = this.options.debounceMs;
    this.checkIn(this.options.debounceMs);
  }

  /** Schedules a check `delay` ms from now, unless one is already due sooner. */
  private checkIn(delay: number): void {
    if (this.closed) return;
    const dueAt = this.options.clock.now() + delay;
    if (this.cancelCheck !== undefined && this.dueAt <= dueAt) return;
    this.cancelCheck?.();
    this.dueAt = dueAt;
    this.cancelCheck = this.options.clock.setTimer(delay, () => void this.due());
  }

  private async due(): Promise<void> {
    this.cancelCheck = undefined;
    if (this.closed || (await this.options.check())) return;
    this.followUpMs = Math.max(1, this.followUpMs * 2);
    if (this.followUpMs <= FOLLOW_UP_LIMIT_MS) this.checkIn(this.followUpMs);
  }
}
