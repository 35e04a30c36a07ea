import { SiltError } from '@silt/fs';
import { z } from 'zod';
import { parseRow, translateSqliteError } from './manifest-sqlite.js';
import type { Connection } from './manifest-sqlite.js';
import type { ManifestCheckpoint } from './manifest-checkpoint-result.js';

/**
 * How long a checkpoint waits for readers still reading older frames of
 * `-wal` (and for a reader's lease write) before it gives up for this
 * time. Readers' transactions last microseconds to a few milliseconds, so
 * this almost always suffices; the wait blocks the event loop (SQLite
 * sleeps in its busy handler), which is why it is short and bounded.
 */
export const CHECKPOINT_WAIT_MS = 100;

/** `PRAGMA wal_checkpoint` answers one row: busy = 1 when it could not finish. */
const checkpointRowSchema = z.object({
  busy: z.number().int().min(0).max(1),
  log: z.number().int().min(-1),
  checkpointed: z.number().int().min(-1),
});

/** SQLite says -1 when it could not look at `-wal` at all (another checkpoint was running). */
function frameCount(reported: number): number | undefined {
  return reported < 0 ? undefined : reported;
}

/**
 * A TRUNCATE checkpoint: waits (up to `waitMs`) until no writer is active
 * and every reader reads the newest snapshot, copies every frame into the
 * main file, fsyncs it, waits until no reader uses `-wal`, and truncates
 * `-wal` to zero bytes. FULL and RESTART would leave `-wal`'s bytes in
 * place: frames already copied but still valid, so a `-wal` cut short
 * later would replay an older prefix of them over newer pages. When it
 * cannot finish in time it degrades to copying what it can (PASSIVE),
 * never failing: the commit before it is already durable in `-wal`.
 */
export function checkpointWal(connection: Connection, path: string, waitMs: number, busyTimeoutMs: number): ManifestCheckpoint {
  try {
    connection.pragma(`busy_timeout = ${waitMs}`);
    try {
      const rows: unknown = connection.pragma('wal_checkpoint(TRUNCATE)');
      const row = parseRow(path, checkpointRowSchema, Array.isArray(rows) ? rows[0] : rows, 'wal_checkpoint result');
      return {
        completed: row.busy === 0,
        walFrames: frameCount(row.log),
        checkpointedFrames: frameCount(row.checkpointed),
        error: undefined,
      };
    } finally {
      connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  } catch (error) {
    const translated = translateSqliteError(path, 'checkpoint the manifest WAL', error);
    // Only SQLite's failures are the checkpoint's to report; anything else is a bug.
    if (!(translated instanceof SiltError)) throw translated;
    return { completed: false, walFrames: undefined, checkpointedFrames: undefined, error: translated };
  }
}
