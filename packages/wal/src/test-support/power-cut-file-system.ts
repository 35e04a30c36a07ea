import type { CrashReport, CrashSimFileSystem, FileHandle, FileStat, FileSystem, OpenMode } from '@silt/fs';

/**
 * One "boot" of a CrashSimFileSystem. After `cut()` (which crashes the sim)
 * every call through this object fails, as no code of a powered-off
 * machine runs again; the test opens a fresh PowerCutFileSystem over the same
 * sim for the next boot. Without this, a WAL object left over from before
 * the crash could still create or delete files between its awaits.
 * `close()` of a handle still goes through, only to release descriptors.
 */
export class PowerCutFileSystem implements FileSystem {
  private alive = true;
  private calls = 0;

  /** With `cutAtCall`, the power goes out by itself just before that call (1-based; handle `close()` not counted). */
  constructor(
    private readonly sim: CrashSimFileSystem,
    private readonly cutAtCall = Infinity,
  ) {}

  cut(): CrashReport {
    this.alive = false;
    return this.sim.crash();
  }

  private check(path: string): void {
    if (this.alive && ++this.calls >= this.cutAtCall) this.cut();
    if (!this.alive) throw Object.assign(new Error(`EIO: power is off (${path})`), { code: 'EIO' });
  }

  open(path: string, mode: OpenMode): FileHandle {
    this.check(path);
    const inner = this.sim.open(path, mode);
    const check = (): void => this.check(path);
    return {
      path: inner.path,
      size: () => (check(), inner.size()),
      read: (target, position) => (check(), inner.read(target, position)),
      write: (data, position) => (check(), inner.write(data, position)),
      truncate: (length) => (check(), inner.truncate(length)),
      sync: async () => (check(), inner.sync()),
      datasync: async () => (check(), inner.datasync()),
      datasyncNow: () => (check(), inner.datasyncNow()),
      close: () => inner.close(),
    };
  }

  readFile(path: string): Uint8Array {
    this.check(path);
    return this.sim.readFile(path);
  }

  stat(path: string): FileStat {
    this.check(path);
    return this.sim.stat(path);
  }

  exists(path: string): boolean {
    this.check(path);
    return this.sim.exists(path);
  }

  list(directory: string): string[] {
    this.check(directory);
    return this.sim.list(directory);
  }

  mkdir(path: string): void {
    this.check(path);
    this.sim.mkdir(path);
  }

  rename(from: string, to: string): void {
    this.check(to);
    this.sim.rename(from, to);
  }

  unlink(path: string): void {
    this.check(path);
    this.sim.unlink(path);
  }

  async syncDirectory(path: string): Promise<void> {
    this.check(path);
    await this.sim.syncDirectory(path);
  }
}
