import { basename, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
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
 * Timers and the watch are unref'd: an open reader does not keep a process
 * alive, as an open file does not.
 */
export class ManifestWatcher {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private followUpMs = 0;
  private closed = false;

  private constructor(
    private readonly options: ManifestWatcherOptions,
    private readonly watcher: FSWatcher,
    private readonly poll: NodeJS.Timeout,
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
    const poll = setInterval(() => void options.check(), options.pollIntervalMs).unref();
    const owner = new ManifestWatcher(options, watcher, poll);
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
    clearInterval(this.poll);
    clearTimeout(this.timer);
    await this.watcher.close();
  }

  /** An event: check in `debounceMs`, coalescing the other events of the same commit. */
  private changed(): void {
    this.followUpMs = this.options.debounceMs;
    this.checkIn(this.options.debounceMs);
  }

  /** Schedules a check `delay` ms from now, unless one is already due sooner. */
  private checkIn(delay: number): void {
    if (this.closed) return;
    const dueAt = performance.now() + delay;
    if (this.timer !== undefined && this.dueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = dueAt;
    this.timer = setTimeout(() => void this.due(), delay).unref();
  }

  private async due(): Promise<void> {
    this.timer = undefined;
    if (this.closed || (await this.options.check())) return;
    this.followUpMs = Math.max(1, this.followUpMs * 2);
    if (this.followUpMs <= FOLLOW_UP_LIMIT_MS) this.checkIn(this.followUpMs);
  }
}
