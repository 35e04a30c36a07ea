import type { SiltError } from '@silt/fs';

// Its own file, apart from the checkpoint itself, so that the public types
// never import better-sqlite3's (a consumer need not install its typings).

/**
 * What the writer's last checkpoint of the manifest's SQLite WAL did. A
 * commit is durable once it is in `manifest.sqlite-wal`; the checkpoint
 * then copies it into `manifest.sqlite` (fsynced) and truncates `-wal` to
 * zero bytes, so that losing or damaging `-wal` or `-shm` loses nothing.
 */
export interface ManifestCheckpoint {
  /**
   * Every committed transaction is in `manifest.sqlite` and `-wal` is empty.
   * False when another connection held the WAL for longer than the
   * checkpoint waits (see `CHECKPOINT_WAIT_MS`), or an error stopped it: the
   * newest commits then still depend on `-wal`, until a later checkpoint
   * (after the next write transaction, or `Manifest.checkpoint()`) completes.
   */
  readonly completed: boolean;
  /** Frames left in `-wal` (0 once completed); undefined when SQLite could not tell (an error, another checkpoint running). */
  readonly walFrames: number | undefined;
  /**
   * Of those, frames already copied into `manifest.sqlite`. Equal to
   * `walFrames` when the main file holds every commit but a reader still
   * reading from `-wal` kept it from being truncated.
   */
  readonly checkpointedFrames: number | undefined;
  /** The SQLite error (an `IoError`, `CorruptionError`) that stopped the checkpoint, if one did. */
  readonly error: SiltError | undefined;
}
