import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { CorruptionError, IoError, SiltError, nodeFileSystem, WRITER_LOCK_FILE, WRITER_PID_FILE } from '@silt/fs';
import { errnoOf, isNotFound } from '@silt/fs/internal';
import type { FileSystem } from '@silt/fs';
import { isProcessAlive } from './lease-liveness.js';

/** Another writer holds the index directory. Nothing was changed. */
export class LockError extends SiltError {
  readonly code = 'SILT_LOCKED';
  readonly path: string;
  /** The holder's pid; undefined only when the holder had not yet recorded it (see MANIFEST.md). */
  readonly holderPid: number | undefined;

  constructor(path: string, holderPid: number | undefined) {
    const holder =
      holderPid === undefined
        ? 'a process that has not recorded its pid yet'
        : `process ${holderPid}${holderPid === process.pid ? ' (this process)' : ''}`;
    super(`${path} is held by ${holder}; only one writer may open an index directory at a time`);
    this.path = path;
    this.holderPid = holderPid;
  }
}

export interface WriterLockOptions {
  /** Where `writer.pid` is read and written. Default `nodeFileSystem`. The lock itself is SQLite's. */
  fileSystem?: FileSystem;
}

/**
 * How often a loser re-reads `writer.pid` when the lock is held but the pid
 * file does not (yet) name a live process: the holder records its pid
 * microseconds after it gets the lock, so this only spans that window.
 * It never decides who holds the lock: SQLite's lock does.
 */
const HOLDER_RECORD_ATTEMPTS = 200;
const HOLDER_RECORD_PAUSE_MS = 1;

const holderRecordSchema = z.object({ pid: z.number().int().min(1), acquiredAt: z.number() });

/**
 * One writer per index directory, enforced by SQLite's own file locking.
 *
 * `writer.lock` is an SQLite database (journal in memory, so it stays a
 * zero-byte file) on which the holder keeps a `BEGIN IMMEDIATE` transaction
 * open for as long as it holds the lock. That transaction is a RESERVED
 * fcntl lock: any other connection's `BEGIN IMMEDIATE` fails at once with
 * SQLITE_BUSY (busy timeout 0), whether it is in another process (the kernel
 * sees the conflicting fcntl lock) or in this one (SQLite's unix VFS keeps a
 * per-inode table of the locks its connections hold, because POSIX locks are
 * per process and would not conflict). When the holder dies, even by
 * SIGKILL, the kernel drops its fcntl locks, so the lock is free at once:
 * no timeouts, no stale-lock guessing.
 *
 * The holder's pid cannot live in `writer.lock` itself: SQLite releases a
 * write lock when it commits, so "commit the pid, then hold" leaves a gap in
 * which another process can win and a loser would report the wrong pid. So
 * the holder writes `writer.pid` after it has the lock and removes it before
 * letting go; a loser reports the pid in it when that process is alive.
 */
export class WriterLock implements Disposable {
  readonly directory: string;
  readonly path: string;
  /** The pid recorded for this lock: this process. */
  readonly holderPid: number;
  private connection: Database.Database | undefined;
  private readonly fileSystem: FileSystem;

  private constructor(directory: string, connection: Database.Database, fileSystem: FileSystem) {
    this.directory = directory;
    this.path = join(directory, WRITER_LOCK_FILE);
    this.holderPid = process.pid;
    this.connection = connection;
    this.fileSystem = fileSystem;
  }

  /**
   * Takes the writer lock of `directory` (which must exist), or throws
   * `LockError` naming the holder at once. Never waits for the holder.
   */
  static acquire(directory: string, options: WriterLockOptions = {}): WriterLock {
    const fileSystem = options.fileSystem ?? nodeFileSystem;
    const absolute = resolve(directory);
    const lockPath = join(absolute, WRITER_LOCK_FILE);
    const connection = openLockDatabase(lockPath);
    try {
      for (let attempt = 1; ; attempt += 1) {
        if (tryBeginImmediate(connection, lockPath)) {
          const lock = new WriterLock(absolute, connection, fileSystem);
          lock.recordHolder();
          return lock;
        }
        const holderPid = readHolderPid(fileSystem, join(absolute, WRITER_PID_FILE));
        if (holderPid !== undefined) throw new LockError(lockPath, holderPid);
        if (attempt >= HOLDER_RECORD_ATTEMPTS) throw new LockError(lockPath, undefined);
        pause(HOLDER_RECORD_PAUSE_MS);
      }
    } catch (error) {
      // Safe even if another connection in this process holds the lock:
      // SQLite defers closing a descriptor whose inode still has locks.
      connection.close();
      throw error;
    }
  }

  get held(): boolean {
    return this.connection !== undefined;
  }

  /** Lets the lock go. Idempotent. A process that exits or dies releases it too. */
  release(): void {
    const connection = this.connection;
    if (connection === undefined) return;
    this.connection = undefined;
    try {
      this.fileSystem.unlink(join(this.directory, WRITER_PID_FILE));
    } catch (error) {
      if (!isNotFound(error)) throw new IoError('remove writer pid file in', this.directory, error);
    } finally {
      // Closing ends the held transaction, which drops the fcntl lock.
      connection.close();
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }

  private recordHolder(): void {
    const pidPath = join(this.directory, WRITER_PID_FILE);
    const record = JSON.stringify({ pid: this.holderPid, acquiredAt: Date.now() }) + '\n';
    try {
      const handle = this.fileSystem.open(pidPath, 'createOrTruncate');
      try {
        handle.write(new TextEncoder().encode(record), 0);
      } finally {
        handle.close();
      }
    } catch (error) {
      this.connection?.close();
      this.connection = undefined;
      throw new IoError('write', pidPath, error);
    }
  }
}

function openLockDatabase(lockPath: string): Database.Database {
  let connection: Database.Database;
  try {
    connection = new Database(lockPath);
  } catch (error) {
    throw new IoError('open writer lock', lockPath, error);
  }
  try {
    connection.pragma('busy_timeout = 0');
    // No journal file: the lock database is never written.
    connection.pragma('journal_mode = MEMORY');
    return connection;
  } catch (error) {
    connection.close();
    throw translateLockError(lockPath, error);
  }
}

/** True when this connection now holds the lock; false when another connection does. */
function tryBeginImmediate(connection: Database.Database, lockPath: string): boolean {
  try {
    connection.exec('BEGIN IMMEDIATE');
    return true;
  } catch (error) {
    if (errnoOf(error) === 'SQLITE_BUSY') return false;
    throw translateLockError(lockPath, error);
  }
}

function translateLockError(lockPath: string, error: unknown): SiltError {
  const code = errnoOf(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new CorruptionError(lockPath, undefined, 'not an SQLite database; if no silt writer is running, delete it and try again', {
      cause: error,
    });
  }
  return new IoError('lock', lockPath, error);
}

/** The pid in `writer.pid` if that process is alive; undefined when missing, torn, or dead. */
function readHolderPid(fileSystem: FileSystem, pidPath: string): number | undefined {
  let text: string;
  try {
    text = new TextDecoder().decode(fileSystem.readFile(pidPath));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new IoError('read', pidPath, error);
  }
  const record = holderRecordSchema.safeParse(parseJson(text));
  if (!record.success) return undefined;
  return isProcessAlive(record.data.pid) ? record.data.pid : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const pauseCell = new Int32Array(new SharedArrayBuffer(4));

function pause(milliseconds: number): void {
  Atomics.wait(pauseCell, 0, 0, milliseconds);
}
