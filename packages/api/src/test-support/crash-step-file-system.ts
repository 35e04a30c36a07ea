import type { FileHandle, FileStat, FileSystem, OpenMode } from '@silt/fs';

/**
 * The real file system, counting every call that changes or syncs
 * something (an open for writing, write, truncate, fsync, fdatasync,
 * directory fsync, rename, unlink, mkdir): the I/O steps of a workload.
 * With `killAt`, the process SIGKILLs itself just before step `killAt`
 * (after telling `announce`), so a test can kill a writer between any two
 * steps: after a segment's bytes but before its fsync, after the fsync but
 * before the directory's, between the manifest commit and the log deletion.
 * Reads pass through uncounted.
 */
export class StepCountingFileSystem implements FileSystem {
  steps = 0;

  constructor(
    private readonly inner: FileSystem,
    private readonly killAt: number | undefined,
    private readonly announce: (step: number, what: string, path: string) => void,
  ) {}

  step(what: string, path: string): void {
    this.steps++;
    if (this.steps !== this.killAt) return;
    this.announce(this.steps, what, path);
    process.kill(process.pid, 'SIGKILL');
  }

  open(path: string, mode: OpenMode): FileHandle {
    if (mode !== 'read') this.step(`open-${mode}`, path);
    return new StepCountingHandle(this, this.inner.open(path, mode));
  }

  readFile(path: string): Uint8Array {
    return this.inner.readFile(path);
  }

  stat(path: string): FileStat {
    return this.inner.stat(path);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  list(directory: string): string[] {
    return this.inner.list(directory);
  }

  mkdir(path: string): void {
    this.step('mkdir', path);
    this.inner.mkdir(path);
  }

  rename(from: string, to: string): void {
    this.step('rename', to);
    this.inner.rename(from, to);
  }

  unlink(path: string): void {
    this.step('unlink', path);
    this.inner.unlink(path);
  }

  async syncDirectory(path: string): Promise<void> {
    this.step('syncDirectory', path);
    await this.inner.syncDirectory(path);
  }
}

class StepCountingHandle implements FileHandle {
  constructor(
    private readonly owner: StepCountingFileSystem,
    private readonly inner: FileHandle,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  size(): number {
    return this.inner.size();
  }

  read(target: Uint8Array, position: number): number {
    return this.inner.read(target, position);
  }

  write(data: Uint8Array, position: number): void {
    this.owner.step('write', this.path);
    this.inner.write(data, position);
  }

  truncate(length: number): void {
    this.owner.step('truncate', this.path);
    this.inner.truncate(length);
  }

  async sync(): Promise<void> {
    this.owner.step('fsync', this.path);
    await this.inner.sync();
  }

  async datasync(): Promise<void> {
    this.owner.step('fdatasync', this.path);
    await this.inner.datasync();
  }

  close(): void {
    this.inner.close();
  }
}
