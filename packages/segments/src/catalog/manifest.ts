import { setTimeout as sleep } from 'node:timers/promises';
import { ClosedError, CorruptionError, IoError, ValidationError } from '@silt/fs';
import { z } from 'zod';
import { CHECKPOINT_WAIT_MS, checkpointWal } from './manifest-checkpoint.js';
import type { ManifestCheckpoint } from './manifest-checkpoint-result.js';
import { describeOverlap, planCommit } from './manifest-commit.js';
import type { CommitPlan } from './manifest-commit.js';
import { GenerationNotFoundError } from './manifest-errors.js';
import { openManifestConnection } from './manifest-format.js';
import type { ManifestRole } from './manifest-role.js';
import {
  generationNumberSchema,
  generationRowSchema,
  leaseRowSchema,
  pidSchema,
  segmentIdListSchema,
  segmentRowSchema,
  stateRowSchema,
} from './manifest-schema.js';
import type { Generation, Lease, ManifestChange, ManifestState, SegmentRecord } from './manifest-schema.js';
import { guarded, parseRow } from './manifest-sqlite.js';
import { parseWithSchema } from '../shared/schema-validation.js';
import type { Connection } from './manifest-sqlite.js';
import { isProcessAlive } from './lease-liveness.js';

export type { ManifestRole } from './manifest-role.js';
export type { ManifestCheckpoint } from './manifest-checkpoint-result.js';

export const manifestOptionsSchema = z
  .object({
    /** 'writer' (default) creates the file and may commit; 'reader' never creates nor commits. */
    role: z.enum(['writer', 'reader']).optional(),
    /** How long a commit or lease write waits for another connection's write transaction. */
    busyTimeoutMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict();

export type ManifestOptions = z.input<typeof manifestOptionsSchema>;

/**
 * Write transactions on the manifest are short (a commit, a lease move: one
 * fsync), so waiting a bounded time for one is safe; 5 s covers a slow disk.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** The longest pause between tries of `moveLeaseWhenFree`: a commit's lock is held for an fsync or two. */
const MAX_LOCK_RETRY_MS = 8;

const SEGMENT_COLUMNS = 'id, file, min_sequence, max_sequence, min_key, max_key, bytes, entries, tombstones, added_gen, removed_gen';

/**
 * The catalog of an index: which generation is current, which segments
 * each recent generation is made of, how far the WAL is covered, and which
 * reader processes hold which generation. One SQLite database in WAL mode;
 * see MANIFEST.md for the schema and the guarantees.
 *
 * Synchronous, like better-sqlite3. Every read of several rows runs in one
 * read transaction (one snapshot), so no caller ever sees half a commit.
 *
 * A writer checkpoints SQLite's WAL after each of its write transactions,
 * so a committed generation lives in `manifest.sqlite` alone and survives
 * the loss of `-wal` and `-shm` (see `lastCheckpoint`).
 */
export class Manifest implements Disposable {
  readonly path: string;
  readonly role: ManifestRole;
  private connection: Connection | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly busyTimeoutMs: number;
  private latestCheckpoint: ManifestCheckpoint | undefined;

  private constructor(path: string, role: ManifestRole, connection: Connection, busyTimeoutMs: number) {
    this.path = path;
    this.role = role;
    this.connection = connection;
    this.busyTimeoutMs = busyTimeoutMs;
    this.statements = guarded(path, 'prepare manifest statements', () => prepareStatements(connection));
  }

  /**
   * Opens `path`. A writer creates it (the directory must exist), sets WAL
   * mode and migrates older formats; a reader requires an initialised
   * manifest (else `ManifestNotFoundError`) and never changes generations.
   * A writer then checkpoints, so what it created, migrated or found in a
   * `-wal` left by a writer that died moves into the main file at once.
   */
  static open(path: string, options: ManifestOptions = {}): Manifest {
    const parsed = parseWithSchema(manifestOptionsSchema, options, 'manifest options');
    const role = parsed.role ?? 'writer';
    const busyTimeoutMs = parsed.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const connection = openManifestConnection(path, role, busyTimeoutMs);
    try {
      const manifest = new Manifest(path, role, connection, busyTimeoutMs);
      if (role === 'writer') manifest.checkpoint();
      return manifest;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** The current generation number: one indexed read, cheap enough for a reader's refresh check. */
  currentGeneration(): number {
    const value = this.run('read current generation', () => this.statements.currentGeneration.get());
    return parseRow(this.path, generationNumberSchema, value, 'current generation');
  }

  /**
   * The id the next `allocateSegmentId` returns: every id below it has been
   * handed out. A file `segments/<id>.seg` with `id >= nextSegmentId()`
   * was named by a manifest state this file no longer has (it is behind).
   */
  nextSegmentId(): number {
    return this.run('read next segment id', () => this.state().nextSegmentId);
  }

  /** The current generation: its number, WAL position and live segments, read in one snapshot. */
  current(): Generation {
    return this.readTransaction('read current generation', () => {
      const state = this.state();
      return this.readGeneration(state.generation, state.generation);
    });
  }

  /**
   * Generation `generation`'s live set, as it was committed. Readable while
   * its segment files exist: the current generation, any generation a live
   * lease holds, and older ones until their files are collected.
   */
  generationAt(generation: number): Generation {
    const wanted = parseWithSchema(generationNumberSchema, generation, 'generation');
    return this.readTransaction('read generation', () => this.readGeneration(wanted, this.state().generation));
  }

  /**
   * A fresh segment id, committed (and fsynced) before it returns, so the
   * name `segments/<id>.seg` is never handed out twice, even across crashes.
   */
  allocateSegmentId(): number {
    return this.allocateSegmentIds(1);
  }

  /**
   * Reserves `count` consecutive segment ids in one transaction and returns
   * the first: a writer that hands them out one by one pays one fsync'd
   * transaction per `count` flushes and merges. Ids reserved and never
   * used are simply skipped; none is ever handed out twice.
   */
  allocateSegmentIds(count: number): number {
    this.requireWriter('allocate segment ids');
    if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) {
      throw new ValidationError(`segment ids are reserved 1 to 1,000,000 at a time, got ${String(count)}`);
    }
    const id = this.write('allocate segment ids', () => this.statements.allocateSegmentIds.get(count, count));
    return parseRow(this.path, z.number().int().min(1), id, 'allocated segment id');
  }

  /**
   * One transaction: add segments, remove (replace) live ones, move the WAL
   * position, and bump the generation. Returns the new generation. Any
   * failed check (`ValidationError`, `StaleCommitError` when a removed
   * segment is no longer live) leaves the manifest exactly as it was.
   * Every file the change names must already be fsynced, with its directory.
   */
  commit(change: ManifestChange): Generation {
    this.requireWriter('commit');
    return this.writeTransaction('commit', () => {
      const state = this.state();
      const plan = planCommit(change, {
        state,
        live: this.liveAt(state.generation),
        hasSegmentRow: (id) => this.statements.segmentExists.get(id) !== undefined,
      });
      const committedAt = Date.now();
      this.apply(plan, committedAt);
      return {
        generation: plan.generation,
        walCoveredSequence: plan.walCoveredSequence,
        segments: plan.live,
        committedAt,
      };
    });
  }

  /**
   * Leases the current generation for `pid` (default: this process), in
   * the same transaction that reads which generation is current, so the
   * collector can never delete a file between "which generation?" and "hold
   * it". Read its segments with `generationAt(lease.generation)`.
   */
  takeLease(pid: number = process.pid): Lease {
    const holder = parseWithSchema(pidSchema, pid, 'pid');
    return this.writeTransaction('take lease', () => {
      const row = this.statements.insertLease.get(holder, this.state().generation, Date.now());
      return parseRow(this.path, leaseRowSchema, row, 'lease row');
    });
  }

  /** Moves lease `leaseId` to the current generation (why only the current one: see `takeLease`). */
  moveLease(leaseId: number): Lease {
    const id = parseWithSchema(z.number().int().min(1), leaseId, 'lease id');
    return this.writeTransaction('move lease', () => {
      const row = this.statements.moveLease.get(this.state().generation, Date.now(), id);
      if (row === undefined) {
        throw new ValidationError(`no lease ${id} in ${this.path}: it was dropped, or reclaimed because its pid was dead; take a new one`);
      }
      return parseRow(this.path, leaseRowSchema, row, 'lease row');
    });
  }

  /**
   * `moveLease` without ever sleeping on the caller's thread. SQLite's busy
   * handler sleeps in the calling thread (1, 2, 5 … up to 100 ms a try) while
   * another connection holds the write lock: the writer's commit and its
   * checkpoint, other readers' lease moves, all of which come together right
   * after a commit. A reader's event loop would stall there, and with it the
   * tailed writes it serves. This tries without waiting and, while the lock
   * is held, tries again on a timer (1 ms, doubling up to 8), up to the busy
   * timeout; the last try waits as `moveLease` does, and fails the same way.
   */
  async moveLeaseWhenFree(leaseId: number): Promise<Lease> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let delay = 1; Date.now() < deadline; delay = Math.min(2 * delay, MAX_LOCK_RETRY_MS)) {
      const moved = this.withoutWaiting(() => this.moveLease(leaseId));
      if (moved !== undefined) return moved;
      await sleep(delay);
    }
    return this.moveLease(leaseId);
  }

  /** Drops lease `leaseId`. Dropping a lease that is gone is not an error. */
  dropLease(leaseId: number): void {
    const id = parseWithSchema(z.number().int().min(1), leaseId, 'lease id');
    this.write('drop lease', () => this.statements.dropLease.run(id));
  }

  /** Leases whose pid is alive. */
  liveLeases(): Lease[] {
    return this.readTransaction('read leases', () => this.leases().filter((lease) => isProcessAlive(lease.pid)));
  }

  /** Deletes the leases of dead pids and returns them. */
  reclaimDeadLeases(): Lease[] {
    return this.writeTransaction('reclaim dead leases', () => this.deleteDeadLeases());
  }

  /**
   * Removed segments that no generation in use needs: not live in the
   * current generation, nor in any generation a live lease holds (dead
   * pids' leases are reclaimed first). Delete their files, then call
   * `markCollected`. Safe to act on later: new leases only ever take the
   * current generation, which none of these is part of.
   */
  collectable(): SegmentRecord[] {
    return this.writeTransaction('list collectable segments', () => {
      this.deleteDeadLeases();
      return this.collectableSegments();
    });
  }

  /**
   * Records that the files of these collectable segments are deleted:
   * drops their rows and the generation rows that can no longer be read.
   * Ids already collected are ignored; an id still needed is a
   * `ValidationError` and nothing changes.
   */
  markCollected(ids: readonly number[]): void {
    this.requireWriter('mark segments collected');
    const wanted = parseWithSchema(segmentIdListSchema, ids, 'segment ids');
    this.writeTransaction('mark segments collected', () => {
      this.deleteDeadLeases();
      const collectable = new Map(this.collectableSegments().map((segment) => [segment.id, segment]));
      const { nextSegmentId } = this.state();
      const toForget: SegmentRecord[] = [];
      for (const id of new Set(wanted)) {
        const segment = collectable.get(id);
        if (segment !== undefined) toForget.push(segment);
        else if (id >= nextSegmentId) throw new ValidationError(`segment ${id} was never allocated`);
        else if (this.statements.segmentExists.get(id) !== undefined) {
          throw new ValidationError(
            `segment ${id} is still needed (live now, or in a generation a live lease holds); it was not marked collected`,
          );
        }
      }
      for (const segment of toForget) this.forget(segment);
    });
  }

  /**
   * Every segment id the manifest still names (live, or removed and not yet
   * collected). At open, before any flush or merge runs, a file in
   * `segments/` that is not among these is an orphan from a crash.
   */
  segmentIds(): number[] {
    return this.run('list segment ids', () => this.statements.segmentIds.all()).map((id) =>
      parseRow(this.path, z.number().int().min(1), id, 'segment id'),
    );
  }

  /**
   * Copies every commit from `manifest.sqlite-wal` into `manifest.sqlite`
   * (fsynced) and truncates `-wal` to zero bytes. A writer does this after
   * each of its write transactions (commit, id allocation, collection,
   * lease writes) and at open; call it to retry after one that did not
   * complete (the index's writer does at its next refresh tick and at close). Never throws for SQLite's
   * reasons: a checkpoint that cannot finish (a reader still reading old
   * frames after `CHECKPOINT_WAIT_MS`, an I/O error) says so in its result.
   * Writer only (`ValidationError` for a reader).
   */
  checkpoint(): ManifestCheckpoint {
    this.requireWriter('checkpoint');
    const connection = this.requireConnection();
    const waitMs = Math.min(CHECKPOINT_WAIT_MS, this.busyTimeoutMs);
    this.latestCheckpoint = checkpointWal(connection, this.path, waitMs, this.busyTimeoutMs);
    return this.latestCheckpoint;
  }

  /**
   * The writer's most recent checkpoint; `completed: false` means the
   * newest commits still depend on `-wal` until a later one completes.
   * Undefined for a reader, which never checkpoints.
   */
  get lastCheckpoint(): ManifestCheckpoint | undefined {
    return this.latestCheckpoint;
  }

  get closed(): boolean {
    return this.connection === undefined;
  }

  /** Closes the connection. Idempotent. Leases stay: drop them first if this process is done reading. */
  close(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private apply(plan: CommitPlan, committedAt: number): void {
    const statements = this.statements;
    for (const id of plan.removeIds) statements.markRemoved.run(plan.generation, id);
    for (const segment of plan.added) {
      statements.insertSegment.run(
        segment.id,
        segment.file,
        segment.minSequence,
        segment.maxSequence,
        toBuffer(segment.minKey),
        toBuffer(segment.maxKey),
        segment.bytes,
        segment.entries,
        segment.tombstones,
        segment.addedGeneration,
      );
    }
    statements.insertGeneration.run(plan.generation, plan.walCoveredSequence, committedAt);
    statements.updateState.run(plan.generation, plan.walCoveredSequence);
  }

  private state(): ManifestState {
    return parseRow(this.path, stateRowSchema, this.statements.state.get(), 'manifest_state row');
  }

  private readGeneration(generation: number, currentGeneration: number): Generation {
    const row = this.statements.generationRow.get(generation);
    if (row === undefined) {
      if (generation === currentGeneration) {
        throw new CorruptionError(this.path, undefined, `the current generation ${generation} has no generations row`);
      }
      throw new GenerationNotFoundError(generation, currentGeneration);
    }
    const header = parseRow(this.path, generationRowSchema, row, 'generations row');
    return { ...header, segments: this.liveAt(generation) };
  }

  private liveAt(generation: number): SegmentRecord[] {
    const segments = this.statements.liveAt
      .all(generation, generation)
      .map((row) => parseRow(this.path, segmentRowSchema, row, 'segments row'));
    const overlap = describeOverlap(segments);
    if (overlap !== undefined) {
      throw new CorruptionError(this.path, undefined, `generation ${generation} has overlapping ${overlap}`);
    }
    return segments;
  }

  private leases(): Lease[] {
    return this.statements.allLeases.all().map((row) => parseRow(this.path, leaseRowSchema, row, 'lease row'));
  }

  private deleteDeadLeases(): Lease[] {
    const dead = this.leases().filter((lease) => !isProcessAlive(lease.pid));
    for (const lease of dead) this.statements.dropLease.run(lease.id);
    return dead;
  }

  private collectableSegments(): SegmentRecord[] {
    return this.statements.collectable.all().map((row) => parseRow(this.path, segmentRowSchema, row, 'segments row'));
  }

  /** A collected segment's generations cannot be read any more: forget them with it. */
  private forget(segment: SegmentRecord): void {
    if (segment.removedGeneration !== null) {
      this.statements.deleteGenerations.run(segment.addedGeneration, segment.removedGeneration);
    }
    this.statements.deleteSegment.run(segment.id);
  }

  private requireWriter(what: string): void {
    if (this.role !== 'writer') {
      throw new ValidationError(`cannot ${what}: ${this.path} was opened with role 'reader'`);
    }
  }

  private requireConnection(): Connection {
    if (this.connection === undefined) throw new ClosedError(`manifest ${this.path}`);
    return this.connection;
  }

  /** One statement, in its own implicit transaction. */
  private run<T>(action: string, work: () => T): T {
    this.requireConnection();
    return guarded(this.path, action, work);
  }

  /** One writing statement, in its own implicit transaction, checkpointed after (see `checkpoint`). */
  private write<T>(action: string, work: () => T): T {
    const result = this.run(action, work);
    this.checkpointIfWriter();
    return result;
  }

  private readTransaction<T>(action: string, work: () => T): T {
    const connection = this.requireConnection();
    return guarded(this.path, action, () => connection.transaction(work).deferred());
  }

  /**
   * IMMEDIATE: take the write lock up front, so the busy timeout applies
   * instead of a failed upgrade. A writer checkpoints once it has committed.
   */
  private writeTransaction<T>(action: string, work: () => T): T {
    const connection = this.requireConnection();
    const result = guarded(this.path, action, () => connection.transaction(work).immediate());
    this.checkpointIfWriter();
    return result;
  }

  /** `work`'s result, or undefined if SQLite's write lock was held by another connection (nothing done then). */
  private withoutWaiting<T>(work: () => T): T | undefined {
    const connection = this.requireConnection();
    connection.pragma('busy_timeout = 0');
    try {
      return work();
    } catch (error) {
      if (error instanceof IoError && error.errno?.startsWith('SQLITE_BUSY') === true) return undefined;
      throw error;
    } finally {
      connection.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /**
   * Only the writer checkpoints: a reader's lease writes would otherwise
   * take SQLite's write lock for a checkpoint's wait, in every reader, at
   * every refresh. They reach the main file at the writer's next one.
   */
  private checkpointIfWriter(): void {
    if (this.role === 'writer') this.checkpoint();
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function prepareStatements(connection: Connection) {
  return {
    state: connection.prepare('SELECT generation, wal_covered_sequence, next_segment_id FROM manifest_state WHERE singleton = 1'),
    currentGeneration: connection.prepare('SELECT generation FROM manifest_state WHERE singleton = 1').pluck(),
    generationRow: connection.prepare('SELECT generation, wal_covered_sequence, committed_at FROM generations WHERE generation = ?'),
    liveAt: connection.prepare(
      `SELECT ${SEGMENT_COLUMNS} FROM segments
       WHERE added_gen <= ? AND (removed_gen IS NULL OR removed_gen > ?) ORDER BY min_sequence`,
    ),
    segmentExists: connection.prepare('SELECT 1 FROM segments WHERE id = ?').pluck(),
    segmentIds: connection.prepare('SELECT id FROM segments ORDER BY id').pluck(),
    allocateSegmentIds: connection
      .prepare('UPDATE manifest_state SET next_segment_id = next_segment_id + ? WHERE singleton = 1 RETURNING next_segment_id - ?')
      .pluck(),
    markRemoved: connection.prepare('UPDATE segments SET removed_gen = ? WHERE id = ? AND removed_gen IS NULL'),
    insertSegment: connection.prepare(`INSERT INTO segments (${SEGMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`),
    insertGeneration: connection.prepare('INSERT INTO generations (generation, wal_covered_sequence, committed_at) VALUES (?, ?, ?)'),
    updateState: connection.prepare('UPDATE manifest_state SET generation = ?, wal_covered_sequence = ? WHERE singleton = 1'),
    insertLease: connection.prepare('INSERT INTO leases (pid, generation, since) VALUES (?, ?, ?) RETURNING id, pid, generation, since'),
    moveLease: connection.prepare('UPDATE leases SET generation = ?, since = ? WHERE id = ? RETURNING id, pid, generation, since'),
    dropLease: connection.prepare('DELETE FROM leases WHERE id = ?'),
    allLeases: connection.prepare('SELECT id, pid, generation, since FROM leases ORDER BY id'),
    collectable: connection.prepare(
      `SELECT ${SEGMENT_COLUMNS} FROM segments AS s
       WHERE s.removed_gen IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM leases AS l WHERE l.generation >= s.added_gen AND l.generation < s.removed_gen)
       ORDER BY s.id`,
    ),
    deleteSegment: connection.prepare('DELETE FROM segments WHERE id = ?'),
    deleteGenerations: connection.prepare('DELETE FROM generations WHERE generation >= ? AND generation < ?'),
  };
}
