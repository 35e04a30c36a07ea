import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
import { mapFileIfSupported, nativePositionedRead, type PositionedRead } from './file-mapping.js';

const fsyncAsync = promisify(fs.fsync);
const fdatasyncAsync = promisify(fs.fdatasync);

const FLAGS: Record<OpenMode, string> = {
  read: 'r',
  readWrite: 'r+',
  createNew: 'wx+',
  createOrTruncate: 'w+',
};

/**
 * Reading never updates a file's access time: silt does not use it, and
 * under `relatime` the kernel still checks it on every read (about 2 % of a
 * `file`-mode get). Linux only, and only for the file's owner (or root);
 * anyone else opens without it.
 */
const READ_NO_ATIME = fs.constants.O_NOATIME === undefined ? undefined : fs.constants.O_RDONLY | fs.constants.O_NOATIME;

function openFile(path: string, mode: OpenMode): number {
  if (mode !== 'read' || READ_NO_ATIME === undefined) return fs.openSync(path, FLAGS[mode]);
  try {
    return fs.openSync(path, READ_NO_ATIME);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return fs.openSync(path, FLAGS[mode]);
  }
}

const readSyncAt: PositionedRead = (fd, target, position) => fs.readSync(fd, target, 0, target.length, position);
let chosenRead: PositionedRead | undefined;

/** @silt/mmap's `pread` where it is installed (chosen on the first read, as the addon loads on first use), `fs.readSync` elsewhere. */
function readAt(fd: number, target: Uint8Array, position: number): number {
  chosenRead ??= nativePositionedRead() ?? readSyncAt;
  return chosenRead(fd, target, position);
}

class NodeFileHandle implements FileHandle {
  private fd: number;

  constructor(
    readonly path: string,
    mode: OpenMode,
  ) {
    this.fd = openFile(path, mode);
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  read(target: Uint8Array, position: number): number {
    const first = readAt(this.fd, target, position);
    return first === target.length || first === 0 ? first : this.readRest(target, position, first);
  }

  /** A short read is not the end of the file until a read returns nothing. */
  private readRest(target: Uint8Array, position: number, done: number): number {
    while (done < target.length) {
      const n = readAt(this.fd, target.subarray(done), position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(this.fd, data, done, data.length - done, position + done);
    }
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }

  sync(): Promise<void> {
    return fsyncAsync(this.fd);
  }

  datasync(): Promise<void> {
    return fdatasyncAsync(this.fd);
  }

  datasyncNow(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
  }
}

/** The real file system, on `node:fs`. */
export class NodeFileSystem implements FileSystem {
  open(path: string, mode: OpenMode): FileHandle {
    return new NodeFileHandle(path, mode);
  }

  readFile(path: string): Uint8Array {
    return fs.readFileSync(path);
  }

  mapFile(path: string): Uint8Array | undefined {
    return mapFileIfSupported(path);
  }

  stat(path: string): FileStat {
    const s = fs.statSync(path);
    return { size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory(), mtimeMs: s.mtimeMs };
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  list(directory: string): string[] {
    return fs.readdirSync(directory).sort(compareNames);
  }

  mkdir(path: string): void {
    fs.mkdirSync(path, { recursive: true });
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }

  unlink(path: string): void {
    fs.unlinkSync(path);
  }

  link(existing: string, newPath: string): void {
    fs.linkSync(existing, newPath);
  }

  removeDirectory(path: string): void {
    fs.rmdirSync(path);
  }

  async syncDirectory(path: string): Promise<void> {
    const fd = fs.openSync(path, 'r');
    try {
      await fsyncAsync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The process-wide real file system. */
export const nodeFileSystem: FileSystem = new NodeFileSystem();
