/**
 * The one seam for file I/O. Storage code never touches `node:fs` directly,
 * so tests can swap in CrashSimFileSystem or FaultInjectingFileSystem.
 *
 * Reads, writes and metadata calls are synchronous: they hit the page cache
 * and cost microseconds, and synchronous positioned reads let point lookups
 * stay synchronous. The calls that wait for the disk (fsync, fdatasync, a
 * directory fsync) are asynchronous so the event loop keeps gathering the
 * next group commit meanwhile.
 *
 * Errors are Node's own errno errors (with `code`), so callers can tell
 * ENOENT from EIO; the durable helpers and the storage packages wrap them.
 */

/**
 * - `read`: existing file, read only.
 * - `readWrite`: existing file, read and write.
 * - `createNew`: a new file, read and write; fails with EEXIST if it exists.
 * - `createOrTruncate`: a file emptied or created, read and write.
 */
export type OpenMode = 'read' | 'readWrite' | 'createNew' | 'createOrTruncate';

export interface FileStat {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly mtimeMs: number;
}

export interface FileHandle {
  readonly path: string;
  /** Current length in bytes. */
  size(): number;
  /** Reads up to `target.length` bytes at `position`; returns how many were read (fewer only at end of file). */
  read(target: Uint8Array, position: number): number;
  /** Writes every byte of `data` at `position`. Not durable until `sync`/`datasync`. */
  write(data: Uint8Array, position: number): void;
  truncate(length: number): void;
  /** fsync: data and metadata on stable storage. */
  sync(): Promise<void>;
  /** fdatasync: data (and the size) on stable storage. */
  datasync(): Promise<void>;
  /**
   * fdatasync on the calling thread, blocking it until done. For a writer
   * whose callers await each durable write (as SQLite does): on a busy or
   * virtual machine the thread-pool round trip of `datasync` can cost as
   * much as the fdatasync itself.
   */
  datasyncNow(): void;
  close(): void;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): FileHandle;
  readFile(path: string): Uint8Array;
  /**
   * The whole file, mapped read-only and shared (mmap): its bytes are the
   * page cache's, one copy for every process that maps the file, read
   * without a system call. The mapping is released when the garbage
   * collector takes the bytes and every view of them. Never map a file that
   * may shrink (a page past its new end kills the process with SIGBUS), and
   * never write into the bytes (the pages are read-only: the write faults).
   * Optional, and undefined where this process cannot map files (the
   * @silt/mmap addon is not installed: `fileMappingSupport()` says why);
   * a caller then reads the file its other way.
   */
  mapFile?(path: string): Uint8Array | undefined;
  stat(path: string): FileStat;
  exists(path: string): boolean;
  /** Names in a directory (not paths), sorted by byte order. */
  list(directory: string): string[];
  /** Creates a directory and its parents; not durable until the parent's `syncDirectory`. */
  mkdir(path: string): void;
  /** Atomic, not durable: the new name survives a power loss only after `syncDirectory`. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** fsync of a directory: makes creations, renames and deletions in it durable. */
  syncDirectory(path: string): Promise<void>;
  /**
   * A second name for an existing file (a hard link); not durable until the
   * new name's directory is synced. Fails with EXDEV across file systems.
   * Optional: a caller without it copies (the simulated file systems do not link).
   */
  link?(existing: string, newPath: string): void;
  /** Removes an empty directory; not durable until its parent is synced. Optional, for cleaning up. */
  removeDirectory?(path: string): void;
}
