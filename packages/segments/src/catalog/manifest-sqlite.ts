import Database from 'better-sqlite3';
import type { z } from 'zod';
import { CorruptionError, IoError, SiltError } from '@silt/fs';
import { errnoOf } from '@silt/fs/internal';
import { describeIssues } from '../shared/schema-validation.js';

/**
 * The thin layer between the manifest and better-sqlite3: how connections
 * are configured, and how SQLite's errors become silt's typed ones.
 */

export type Connection = Database.Database;

/**
 * Every connection: WAL readers never block the writer nor the writer them;
 * the writer's `synchronous = FULL` fsyncs the WAL at every commit, so a
 * commit that returned survives power loss (NORMAL would not); `fullfsync`
 * asks macOS for F_FULLFSYNC (a no-op on Linux). A reader's only writes are
 * its leases, which mean something only while its process lives, and a
 * power loss ends every process: its connection commits with `synchronous
 * = NORMAL`, no fsync (in WAL mode the log is synced at checkpoints, which
 * only the writer runs), so moving a lease at each refresh costs a reader
 * no fsync. The busy timeout covers only the short write transactions of
 * commits and leases, never a lock held for long.
 */
export function configureConnection(connection: Connection, busyTimeoutMs: number, durableCommits: boolean): void {
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  connection.pragma(durableCommits ? 'synchronous = FULL' : 'synchronous = NORMAL');
  connection.pragma('fullfsync = ON');
  connection.pragma('checkpoint_fullfsync = ON');
  // After a checkpoint, shrink the -wal file back to at most 4 MiB.
  connection.pragma('journal_size_limit = 4194304');
}

/** Runs `work`, turning SQLite's errors into typed silt errors that name the manifest. */
export function guarded<T>(path: string, action: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw translateSqliteError(path, action, error);
  }
}

export function translateSqliteError(path: string, action: string, error: unknown): unknown {
  if (error instanceof SiltError || !(error instanceof Database.SqliteError)) return error;
  const code = errnoOf(error);
  if (code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT') === true) {
    return new CorruptionError(path, undefined, `${action}: ${error.message}`, { cause: error });
  }
  return new IoError(action, path, error);
}

/** Validates one row read back; a row that fails is corruption of the manifest, named as such. */
export function parseRow<Schema extends z.ZodType>(path: string, schema: Schema, row: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(row);
  if (result.success) return result.data;
  throw new CorruptionError(path, undefined, `malformed ${what}: ${describeIssues(result.error)}`);
}
