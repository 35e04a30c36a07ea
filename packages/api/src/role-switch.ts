import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { ClosedError, ValidationError, WAL_DIRECTORY, type Clock } from '@silt/fs';
import { LockError } from '@silt/segments';
import {
  ReadOnlyIndex,
  type ChangesOptions,
  type ChangeSubscription,
  type FuzzyOptions,
  type Key,
  type NearOptions,
  type RangeOptions,
  type Value,
} from '@silt/reader';
import { recordOwnWrites, toIndexScanRange } from '@silt/reader/internal';
import type { ResolvedIndexOptions } from './index-options.js';
import type { IndexEvents } from './index-events.js';
import type { IndexRole, IndexRoleName } from './index-role.js';
import { liveSegmentStats, type IndexStats } from './index-stats.js';
import { IndexWriter } from './index-writer.js';
import type { PreparedOperation } from './write-batch.js';
import { ReadOnlyError, WriterChangedError, WriterRefusedError, WriterUnreachableError } from './role-errors.js';
import { SocketAddress } from './writer-actor/socket-address.js';
import { WriterServer } from './writer-actor/writer-server.js';
import { WriterConnection } from './writer-actor/writer-connection.js';
import { findUnansweredWrites } from './writer-actor/unanswered-writes.js';
import type { Failure } from './writer-actor/write-replies.js';
import type { ClearRangeInput } from './writer-actor/writes-frame-builder.js';
import type { WriterCommand } from './writer-actor/write-requests.js';

/** How a process asked to take part: see `IndexOptions.role`. */
export type RequestedRole = 'auto' | 'writer' | 'reader';

const U32_MAX = 0xffff_ffff;
/** Waits between tries to take the lock or reach the writer: short at first, a failover is over in milliseconds. */
const FIRST_RETRY_MS = 1;
const MAX_RETRY_MS = 50;

/** A write or command a client sent (or will send) and the writer has not answered. */
interface Pending {
  readonly requestId: number;
  /** Sends it on a connection. */
  readonly send: (connection: WriterConnection, requestId: number) => void;
  /** Does it with this process's own writer, after a takeover. */
  readonly runLocally: (writer: IndexWriter<unknown>) => Promise<unknown>;
  /** Commands are sent again after a failover; writes are looked for in the log first. */
  readonly isWrite: boolean;
  /** A batch's writes, which this process's reads show from its acknowledgement on; undefined for a clear or a command. */
  readonly operations: readonly PreparedOperation[] | undefined;
  /** The last sequence number known acknowledged when it was sent: its own is larger. Undefined while unsent. */
  floor: number | undefined;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Resolves once it resolved or rejected. */
  readonly settled: Promise<void>;
}

/**
 * The role an `Index` has in its process, and the changes between roles.
 * With `role: 'auto'`, the process that takes the writer lock is the
 * writer actor: it owns the log, the flusher and the merges, and listens on
 * `writer.sock` in the index directory (`WriterServer`). Every other
 * process is a client: it reads locally (a `ReadOnlyIndex` tailing the log)
 * and forwards its writes (`WriterConnection`); each write resolves once
 * the writer acknowledged it and this process's reads see it. When the
 * writer's connection ends, a client takes the lock and becomes the
 * writer, or connects to whichever client did; writes the dead writer never
 * answered are looked for in the log: applied ones resolve, absent ones are
 * sent again, in order.
 */
export class RoleSwitch<V = Value, K extends Key = Key> implements IndexRole<V, K> {
  private writer: IndexWriter<V, K> | undefined;
  private server: WriterServer | undefined;
  private reader: ReadOnlyIndex<V, K> | undefined;
  private connection: WriterConnection | undefined;
  private readonly clientId = randomBytes(8);
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private lastAcknowledged = 0;
  private reconnecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Why the last takeover failed for a reason other than the lock (damage, say): writes fail with it until one succeeds. */
  private unavailable: Error | undefined;
  private failovers = 0;

  private constructor(
    private readonly directory: string,
    private readonly requested: RequestedRole,
    private readonly options: ResolvedIndexOptions,
    private readonly clock: Clock,
    private readonly events: EventEmitter<IndexEvents>,
  ) {}

  static async open<V, K extends Key>(
    directory: string,
    requested: RequestedRole,
    options: ResolvedIndexOptions,
    clock: Clock,
    events: EventEmitter<IndexEvents>,
    lockTimeoutMs: number,
  ): Promise<RoleSwitch<V, K>> {
    const role = new RoleSwitch<V, K>(directory, requested, options, clock, events);
    const deadline = performance.now() + lockTimeoutMs;
    if (requested === 'reader') {
      role.reader = await role.openReader(lockTimeoutMs);
      return role;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await role.becomeWriter();
        return role;
      } catch (error) {
        if (!(error instanceof LockError)) throw error;
        if (requested === 'writer' && performance.now() >= deadline) throw error;
      }
      if (requested === 'auto' && (await role.tryToConnect(Math.max(0, Math.ceil(deadline - performance.now()))))) return role;
      if (performance.now() >= deadline) {
        await role.reader?.close();
        throw new WriterUnreachableError(
          `no process became the writer of ${directory} within ${lockTimeoutMs} ms, and none took this one's connection`,
        );
      }
      await delay(retryWait(attempt));
    }
  }

  get role(): IndexRoleName {
    if (this.writer !== undefined) return 'writer';
    return this.requested === 'reader' ? 'reader' : 'client';
  }

  /** Clients connected to this process, when it is the writer. */
  get clientCount(): number {
    return this.server?.clientCount ?? 0;
  }

  /** Times this process's writer changed since it opened (it took over, or reconnected to another). */
  get writerChanges(): number {
    return this.failovers;
  }

  // ---- writes ----

  write(prepare: () => PreparedOperation[]): Promise<void> {
    if (this.writer !== undefined) return this.writer.write(prepare);
    let operations: PreparedOperation[];
    try {
      this.checkWritable();
      operations = prepare();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (operations.length === 0) return this.afterPending();
    return this.forward(
      true,
      (connection, requestId) => connection.addBatch(requestId, operations),
      (writer) => writer.write(() => operations),
      operations,
    );
  }

  clear(options?: RangeOptions): Promise<void> {
    if (this.writer !== undefined) return this.writer.clear(options);
    try {
      this.checkWritable();
      toIndexScanRange(options); // refuses bad options here, before anything is sent
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const range = (options ?? {}) as ClearRangeInput;
    return this.forward(
      true,
      (connection, requestId) => connection.addClear(requestId, range),
      (writer) => writer.clear(options),
    );
  }

  flush(): Promise<void> {
    return this.command({ requestId: 0, command: 'flush' }, (writer) => writer.flush());
  }

  forceMerge(maxSegments: number): Promise<void> {
    return this.command({ requestId: 0, command: 'forceMerge', maxSegments }, (writer) => writer.forceMerge(maxSegments));
  }

  mergesIdle(): Promise<void> {
    return this.command({ requestId: 0, command: 'mergesIdle' }, (writer) => writer.mergesIdle());
  }

  checkOpen(): void {
    if (this.closing !== undefined) throw new ClosedError('the index');
    this.writer?.checkOpen();
  }

  // ---- reads: the writer's own, or the local reader's ----

  get(key: Key): V | undefined {
    return this.reads().get(key);
  }

  getMany(keys: readonly Key[]): Array<V | undefined> {
    return this.reads().getMany(keys);
  }

  has(key: Key): boolean {
    return this.reads().has(key);
  }

  range(options?: RangeOptions): IterableIterator<[K, V]> {
    return this.reads().range(options);
  }

  keys(options?: RangeOptions): IterableIterator<K> {
    return this.reads().keys(options);
  }

  values(options?: RangeOptions): IterableIterator<V> {
    return this.reads().values(options);
  }

  iterator(options?: RangeOptions): AsyncIterableIterator<[K, V]> {
    return this.reads().iterator(options);
  }

  near(key: Key, options?: NearOptions): Array<[K, V]> {
    return this.reads().near(key, options);
  }

  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[K, V]> {
    return this.reads().fuzzy(key, maxEdits, options);
  }

  changes(options?: ChangesOptions): ChangeSubscription<V, K> {
    return this.reads().changes(options);
  }

  stats(): IndexStats {
    this.checkOpen();
    if (this.writer !== undefined)
      return { ...this.writer.stats(), role: 'writer', clients: this.clientCount, writerChanges: this.failovers };
    return this.clientStats();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---- internals ----

  private reads(): IndexWriter<V, K> | ReadOnlyIndex<V, K> {
    if (this.closing !== undefined) throw new ClosedError('the index');
    return (this.writer ?? this.reader)!;
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.requested === 'reader') throw new ReadOnlyError(this.directory);
    if (this.unavailable !== undefined) throw this.unavailable;
  }

  private command(command: WriterCommand, runLocally: (writer: IndexWriter<V, K>) => Promise<void>): Promise<void> {
    if (this.writer !== undefined) return runLocally(this.writer);
    try {
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.forward(
      false,
      (connection, requestId) => connection.sendCommand({ ...command, requestId }),
      (writer) => runLocally(writer as IndexWriter<V, K>),
    );
  }

  /** Queues a request for the writer; sends it now if connected. */
  private forward(
    isWrite: boolean,
    send: (connection: WriterConnection, requestId: number) => void,
    runLocally: (writer: IndexWriter<unknown>) => Promise<unknown>,
    operations?: readonly PreparedOperation[],
  ): Promise<void> {
    const requestId = this.takeRequestId();
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const answered = new Promise<void>((resolveAnswer, rejectAnswer) => {
      resolve = resolveAnswer;
      reject = rejectAnswer;
    });
    const settled = answered.then(ignore, ignore);
    const request: Pending = { requestId, send, runLocally, isWrite, operations, floor: undefined, resolve, reject, settled };
    if (this.connection === undefined || this.sendNow(this.connection, request)) this.pending.set(requestId, request);
    this.holdWhilePending();
    return answered;
  }

  /** Sends `request`; false when it was refused (too large for a frame), and rejected. */
  private sendNow(connection: WriterConnection, request: Pending): boolean {
    try {
      request.send(connection, request.requestId);
    } catch (error) {
      this.pending.delete(request.requestId);
      request.reject(error as Error);
      return false;
    }
    request.floor = Math.max(this.lastAcknowledged, connection.welcome.lastSequence);
    return true;
  }

  private takeRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id === U32_MAX ? 1 : id + 1;
    return id;
  }

  /** The connection keeps the process alive only while answers are owed on it. */
  private holdWhilePending(): void {
    this.connection?.hold(this.pending.size > 0);
  }

  /** An empty batch: resolves once every request before it settled. */
  private afterPending(): Promise<void> {
    return Promise.all([...this.pending.values()].map((request) => request.settled)).then(() => undefined);
  }

  private acknowledged(requestId: number, sequence: number): void {
    const request = this.pending.get(requestId);
    if (request === undefined) return;
    this.pending.delete(requestId);
    this.holdWhilePending();
    if (sequence > this.lastAcknowledged) this.lastAcknowledged = sequence;
    if (this.fileOwnWrites(request, sequence)) request.resolve();
    else this.resolveWhenVisible(request, sequence);
  }

  /**
   * A batch's writes are filed with the local reader, which shows them at
   * its next read (reading the log up to them then, or from its own-writes
   * table), instead of reading the log now: applying every process's writes
   * at each acknowledgement was most of a writing client's work. Not under
   * `durability: 'none'`, where an acknowledged write may never reach the
   * log: such a write is visible only once the log shows it.
   */
  private fileOwnWrites(request: Pending, sequence: number): boolean {
    const reader = this.reader;
    const durability = this.connection?.welcome.durability;
    if (request.operations === undefined || reader === undefined || durability === undefined || durability === 'none') return false;
    return recordOwnWrites(reader, request.operations, sequence);
  }

  /** A client reads its own acknowledged write at once: the reader catches up to it before the caller hears. */
  private resolveWhenVisible(request: Pending, sequence: number): void {
    const reader = this.reader;
    if (reader === undefined || reader.visibleSequence >= sequence) return request.resolve();
    reader.catchUpTo(sequence).then(request.resolve, request.resolve);
  }

  private failed(requestId: number, failure: Failure): void {
    const request = this.pending.get(requestId);
    if (request === undefined) return;
    this.pending.delete(requestId);
    this.holdWhilePending();
    request.reject(errorOf(failure));
  }

  private done(requestId: number): void {
    const request = this.pending.get(requestId);
    if (request === undefined) return;
    this.pending.delete(requestId);
    this.holdWhilePending();
    request.resolve();
  }

  /** The reads of a client or reader: its generation's segments and the log's tail, its events passed on. */
  private async openReader(waitMs: number): Promise<ReadOnlyIndex<V, K>> {
    const { accessMode, cacheBytes, keyEncoding, valueEncoding, fs } = this.options;
    // The log is applied when this process reads (or waits for its own write), not at every group commit of the
    // writer: a client that writes and reads seldom costs the machine nothing while the others write.
    const readerOptions = { accessMode, cacheBytes, keyEncoding, valueEncoding, fs, waitForIndex: waitMs, tail: 'onRead' as const };
    const reader = (await ReadOnlyIndex.open(this.directory, readerOptions, { clock: this.clock })) as unknown as ReadOnlyIndex<V, K>;
    reader.on('tail', (sequence) => this.events.emit('tail', sequence));
    reader.on('refresh', (generation) => this.events.emit('refresh', generation));
    reader.on('error', (error) => this.report(error));
    return reader;
  }

  /** Takes the lock (or throws LockError), recovers, listens, and settles what this process had in flight. */
  private async becomeWriter(): Promise<void> {
    const writer = (await IndexWriter.open(this.directory, this.options, this.clock, this.events)) as unknown as IndexWriter<V, K>;
    try {
      this.server = await WriterServer.listen(this.directory, writer, {
        durability: this.options.durability,
        maxValueBytes: this.options.maxValueBytes,
      });
    } catch (error) {
      // A writer the other processes cannot reach would leave them waiting on its lock: let it go.
      await writer.close();
      throw error;
    }
    const unsent = this.settleFromLog(writer.recoveredSequence);
    this.writer = writer;
    this.connection = undefined;
    this.unavailable = undefined;
    for (const request of unsent) request.runLocally(writer as IndexWriter<unknown>).then(request.resolve, request.reject);
    const reader = this.reader;
    this.reader = undefined;
    if (reader !== undefined) this.events.emit('role', 'writer');
    await reader?.close();
  }

  /** Connects to the writer; false if none listens (yet). Opens the local reader first, if there is none. */
  private async tryToConnect(waitMs: number): Promise<boolean> {
    this.reader ??= await this.openReader(waitMs);
    let connection: WriterConnection;
    const address = SocketAddress.of(this.directory);
    try {
      connection = await WriterConnection.connect(
        address,
        { clientId: this.clientId.toString('hex') },
        {
          acknowledged: (requestId, sequence) => this.acknowledged(requestId, sequence),
          failed: (requestId, failure) => this.failed(requestId, failure),
          done: (requestId) => this.done(requestId),
          closed: () => this.connectionLost(connection),
        },
      );
    } catch {
      return false;
    } finally {
      address.close();
    }
    const unsent = this.settleFromLog(connection.welcome.recoveredSequence);
    this.connection = connection;
    this.unavailable = undefined;
    for (const request of unsent) {
      if (this.sendNow(connection, request)) this.pending.set(request.requestId, request);
    }
    this.holdWhilePending();
    return true;
  }

  /**
   * After the writer changed: the pending requests the log shows applied
   * resolve; the rest come back, in order, to be sent (or run) again. With
   * the log unreadable there, the writes among them fail with
   * WriterChangedError: they may or may not have been applied.
   */
  private settleFromLog(recoveredSequence: number): Pending[] {
    const requests = [...this.pending.values()];
    this.pending.clear();
    const sent = requests.filter((request) => request.isWrite && request.floor !== undefined);
    if (sent.length === 0) return requests;
    const from = Math.min(...sent.map((request) => request.floor!)) + 1;
    const walDirectory = join(this.directory, WAL_DIRECTORY);
    const ids = sent.map((request) => request.requestId);
    const outcome = findUnansweredWrites(this.options.fs, walDirectory, this.clientId, ids, from, recoveredSequence);
    const again: Pending[] = [];
    for (const request of requests) {
      if (!request.isWrite || request.floor === undefined) {
        again.push(request);
      } else if (outcome.kind === 'unknown') {
        request.reject(
          new WriterChangedError(
            `the writer of ${this.directory} changed while a write was in flight, and ${outcome.reason}: the write may or may not have been applied`,
          ),
        );
      } else {
        const sequence = outcome.applied.get(request.requestId);
        if (sequence === undefined) again.push(request);
        else this.resolveWhenVisible(request, sequence);
      }
    }
    for (const request of again) request.floor = undefined;
    return again;
  }

  private connectionLost(connection: WriterConnection): void {
    if (this.connection !== connection && this.connection !== undefined) return;
    this.connection = undefined;
    if (this.writer !== undefined) return;
    if (this.closing !== undefined) return this.rejectPending();
    this.reconnecting ??= this.failOver().finally(() => {
      this.reconnecting = undefined;
    });
  }

  /** Takes the lock, or connects to whoever took it; tries until one works or the index closes. */
  private async failOver(): Promise<void> {
    this.failovers++;
    for (let attempt = 0; this.closing === undefined; attempt++) {
      try {
        await this.becomeWriter();
        return;
      } catch (error) {
        if (!(error instanceof LockError)) this.takeoverFailed(error as Error);
      }
      if (this.closing === undefined && (await this.tryToConnect(0))) return;
      await delay(this.unavailable === undefined ? retryWait(attempt) : 1000);
    }
  }

  /** A takeover failed for another reason than the lock: every write waiting, and every new one, hears why, until one succeeds. */
  private takeoverFailed(error: Error): void {
    this.unavailable = error;
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
    this.report(error);
  }

  /** 'error' only when someone listens: a background failure must never crash the process. */
  private report(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }

  private clientStats(): IndexStats {
    const reader = this.reader!;
    const stats = reader.stats();
    return {
      role: this.requested === 'reader' ? 'reader' : 'client',
      directory: this.directory,
      durability: this.connection?.welcome.durability ?? this.options.durability,
      generation: stats.generation,
      coveredSequence: stats.coveredSequence,
      visibleSequence: stats.visibleSequence,
      ...liveSegmentStats(reader.segments),
      accessMode: stats.accessMode,
      tail: stats.tail,
      writer: {
        connected: this.connection !== undefined,
        pid: this.connection?.welcome.writerPid,
        pendingRequests: this.pending.size,
        changes: this.failovers,
      },
    };
  }

  /**
   * A client waits for the answers to what it sent, unless its writer is
   * gone; a takeover under way finishes first, and its writer is closed too.
   */
  private async shutDown(): Promise<void> {
    if (this.writer === undefined && this.connection !== undefined) await this.afterPending();
    this.rejectPending();
    this.connection?.close();
    await this.reconnecting;
    await this.server?.close();
    await this.writer?.close();
    await this.reader?.close();
  }

  /** At close, what no writer will answer: a request sent to a writer that went away may or may not have been applied. */
  private rejectPending(): void {
    for (const request of this.pending.values()) {
      const sent = request.isWrite && request.floor !== undefined;
      request.reject(
        sent
          ? new WriterChangedError(
              `the writer of ${this.directory} went away while this index closed, with a write in flight: it may or may not have been applied`,
            )
          : new ClosedError('the index'),
      );
    }
    this.pending.clear();
  }
}

/** The error a FAILED frame stands for: a bad request is a ValidationError here too. */
function errorOf(failure: Failure): Error {
  if (failure.code === 'SILT_VALIDATION') return new ValidationError(failure.message);
  return new WriterRefusedError(`the writer refused: ${failure.message}`, failure.code, failure.retryable);
}

function ignore(): void {}

function retryWait(attempt: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
