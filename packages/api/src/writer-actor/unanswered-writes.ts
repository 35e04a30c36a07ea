import type { FileSystem } from '@silt/fs';
import { LogTail } from '@silt/wal';

/**
 * What the log says of a client's writes the dead writer never answered:
 * - `read`: `applied` maps each request found to the last sequence number
 *   of its record; a request not in it was never applied, and never will
 *   be (the new writer recovered the log before it took the client), so
 *   sending it again applies it once.
 * - `unknown`: the records could not all be read (a flush covered them
 *   and their file was deleted, or the log is damaged there).
 */
export type UnansweredOutcome =
  { readonly kind: 'read'; readonly applied: Map<number, number> } | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Reads the log records from `from` through `through` (the new writer's
 * last sequence number when it took over) for the origins of `requests`:
 * a write the client sent after it saw `from − 1` acknowledged has a
 * sequence number of at least `from`, and the dead writer wrote nothing
 * past `through`. The read is synchronous, so a flush of the new writer
 * cannot delete a file between its steps unnoticed.
 */
export function findUnansweredWrites(
  fs: FileSystem,
  walDirectory: string,
  client: Uint8Array,
  requests: readonly number[],
  from: number,
  through: number,
): UnansweredOutcome {
  const applied = new Map<number, number>();
  if (requests.length === 0 || from > through) return { kind: 'read', applied };
  const tail = new LogTail(fs, walDirectory, from);
  try {
    while (tail.nextSequence <= through) {
      const read = tail.read((record) => {
        for (const request of requests) {
          if (record.hasOrigin({ client, request })) applied.set(request, record.lastSeq);
        }
      });
      if (read.kind === 'gone') return { kind: 'unknown', reason: `the log no longer holds sequence number ${read.missing}` };
      if (read.stalled !== undefined) return { kind: 'unknown', reason: read.stalled };
      if (read.records === 0) return { kind: 'unknown', reason: `the log is acknowledged only to ${read.acknowledged}, not ${through}` };
    }
  } finally {
    tail.close();
  }
  return { kind: 'read', applied };
}
