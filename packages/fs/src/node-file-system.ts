import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
import { mapFileIfSupported } from './file-mapping.js';

const fsyncAsync = promisify(fs.fsync);
const fdatasyncAsync = promisify(fs.fdatasync);

const FLAGS: Record<OpenMode, string> = {
  read: 'r',
  readWrite: 'r+',
  createNew: 'wx+',
  createOrTruncate: 'w+',
};

class NodeFileHandle implements FileHandle {
  private fd: number;

  constructor(
    readonly path: string,
    mode: OpenMode,
  ) {
    this.fd = fs.openSync(path, FLAGS[mode]);
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  read(target: Uint8Array, position: number): number {
    let done = 0;
    while (done < target.length) {
      const n = fs.readSync(this.fd, target, done, target.length - done, position + done);
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
