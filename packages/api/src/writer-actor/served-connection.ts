import type { Socket } from 'node:net';
import { ClosedError, SiltError, ValidationError, WriterFailedError } from '@silt/fs';
import type { RangeOptions } from '@silt/reader';
import type { WriteOrigin } from '@silt/wal';
import { naming, prepareDelete, preparePut, type PreparedOperation } from '../write-batch.js';
import { AcksFrameBuilder } from './acks-frame-builder.js';
import { FrameReader } from './frame-reader.js';
import { encodeRefused, encodeWelcome, PROTOCOL_NAME, PROTOCOL_VERSION, type Hello, type ForeignHello } from './handshake.js';
import { ProtocolError } from './protocol-error.js';
import { decodeClientMessage, type ClientMessage } from './wire-messages.js';
import { encodeDone, encodeFailed, encodeProtocolError, type Failure } from './write-replies.js';
import type { WireClearRange, WireEntry, WriteRequest, WriterCommand } from './write-requests.js';

/** What the writer actor does for a connection: the `IndexWriter`'s forwarded calls. */
export interface ForwardingTarget {
  writeForwarded(prepare: () => PreparedOperation[], origin: WriteOrigin): Promise<number>;
  clearForwarded(options: RangeOptions, origin: WriteOrigin): Promise<number>;
  flush(): Promise<void>;
  forceMerge(maxSegments: number): Promise<void>;
  mergesIdle(): Promise<void>;
  readonly lastSequence: number;
  readonly recoveredSequence: number;
}

/** What WELCOME tells every client, besides its own connection's numbers. */
export interface WriterFacts {
  readonly durability: 'fsync' | 'write' | 'none';
  readonly maxValueBytes: number;
}

/**
 * What one client may hold of the writer's memory. Past `maxInFlightRequests`
 * or `maxInFlightBytes` of requests not yet answered, the server stops
 * reading its socket (the client's writes then wait in its own process)
 * until half has drained. Past `maxUnreadReplyBytes` of answers it has not
 * read, a client is cut off: one that stopped reading must not make the
 * writer buffer without end.
 */
export interface ConnectionLimits {
  readonly maxInFlightRequests: number;
  readonly maxInFlightBytes: number;
  readonly maxUnreadReplyBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxInFlightRequests: 16_384,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxUnreadReplyBytes: 64 * 1024 * 1024,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One client's connection to the writer actor: the handshake, then its
 * WRITES and COMMANDs served in order of arrival (so a client's writes keep
 * their order in the log) and answered, the acknowledgements of one turn in
 * one ACKS frame. A bad frame is answered with PROTOCOL_ERROR and the
 * connection closed; nothing of the frame is written, and the writer goes on
 * serving everyone else.
 */
export class ServedConnection {
  private readonly frames = new FrameReader();
  private clientId: Uint8Array | undefined;
  private inFlightRequests = 0;
  private inFlightBytes = 0;
  private paused = false;
  private acks = new AcksFrameBuilder();
  private acksQueued = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    readonly connectionId: number,
    private readonly target: ForwardingTarget,
    private readonly facts: WriterFacts,
    private readonly limits: ConnectionLimits,
    private readonly ended: (connection: ServedConnection) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Ends the connection at once; answers still owed are dropped (the client settles them from the log). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.ended(this);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const frame of this.frames.push(chunk)) this.handle(decodeClientMessage(frame), frame.body.length);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.refuseStream(error);
    }
  }

  private handle(message: ClientMessage, bytes: number): void {
    if (this.closed) return;
    if (message.type === 'protocolError') return this.close();
    if (this.clientId === undefined) {
      if (message.type !== 'hello') throw new ProtocolError(`the first frame must be HELLO, got ${message.type}`, 4);
      return this.greet(message.hello);
    }
    if (message.type === 'hello') throw new ProtocolError('a second HELLO on one connection', 4);
    if (message.type === 'command') return this.serveCommand(message.command);
    for (const request of message.requests) this.serveWrite(request, bytes / message.requests.length);
  }

  private greet(hello: Hello | ForeignHello): void {
    if (hello.version !== PROTOCOL_VERSION || !('clientId' in hello)) {
      const message = `this writer (pid ${process.pid}) speaks protocol version ${PROTOCOL_VERSION}; the client (pid ${hello.pid}) asked for ${hello.version}`;
      this.socket.end(encodeRefused({ code: 'SILT_PROTOCOL_VERSION', message, supportedVersions: [PROTOCOL_VERSION] }));
      this.closed = true;
      this.ended(this);
      return;
    }
    this.clientId = Buffer.from(hello.clientId, 'hex');
    this.send(
      encodeWelcome({
        protocol: PROTOCOL_NAME,
        version: PROTOCOL_VERSION,
        writerPid: process.pid,
        connectionId: this.connectionId,
        lastSequence: this.target.lastSequence,
        recoveredSequence: this.target.recoveredSequence,
        durability: this.facts.durability,
        maxValueBytes: this.facts.maxValueBytes,
      }),
    );
  }

  private serveWrite(request: WriteRequest, bytes: number): void {
    const origin: WriteOrigin = { client: this.clientId!, request: request.requestId };
    let written: Promise<number>;
    if (request.kind === 'batch') {
      const maxValueBytes = this.facts.maxValueBytes;
      written = this.target.writeForwarded(() => preparedEntries(request.entries, maxValueBytes), origin);
    } else {
      written = this.target.clearForwarded(rangeOptionsOf(request.range), origin);
    }
    this.track(bytes);
    written.then(
      (sequence) => this.acknowledge(request.requestId, sequence, bytes),
      (error: unknown) => this.refuse(request.requestId, error, bytes),
    );
  }

  private serveCommand(command: WriterCommand): void {
    this.track(0);
    commandDone(this.target, command).then(
      () => {
        this.untrack(0);
        this.send(encodeDone(command.requestId));
      },
      (error: unknown) => this.refuse(command.requestId, error, 0),
    );
  }

  private acknowledge(requestId: number, sequence: number, bytes: number): void {
    this.untrack(bytes);
    if (this.closed) return;
    this.acks.add(requestId, sequence);
    if (this.acks.ackCount === 1 && !this.acksQueued) {
      this.acksQueued = true;
      // Every request the same group commit made durable resolves in this drain of the microtasks, and a tick queued
      // from one runs once it is empty: one frame for all of them, sent before the event loop turns.
      process.nextTick(() => this.sendAcks());
    }
  }

  private sendAcks(): void {
    this.acksQueued = false;
    if (this.closed || this.acks.ackCount === 0) return;
    const frame = this.acks.finish();
    this.acks = new AcksFrameBuilder();
    this.send(frame);
  }

  private refuse(requestId: number, error: unknown, bytes: number): void {
    this.untrack(bytes);
    if (this.closed) return;
    this.sendAcks(); // answers in the order they came
    this.send(encodeFailed(requestId, failureOf(error)));
  }

  private refuseStream(error: ProtocolError): void {
    if (this.closed) return;
    this.socket.end(encodeProtocolError({ code: error.code, message: error.message }));
    this.closed = true;
    this.ended(this);
  }

  private send(frame: Uint8Array): void {
    if (this.closed) return;
    this.socket.write(frame);
    if (this.socket.writableLength > this.limits.maxUnreadReplyBytes) this.close();
  }

  private track(bytes: number): void {
    this.inFlightRequests++;
    this.inFlightBytes += bytes;
    const { maxInFlightRequests, maxInFlightBytes } = this.limits;
    if (!this.paused && (this.inFlightRequests > maxInFlightRequests || this.inFlightBytes > maxInFlightBytes)) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private untrack(bytes: number): void {
    this.inFlightRequests--;
    this.inFlightBytes -= bytes;
    const { maxInFlightRequests, maxInFlightBytes } = this.limits;
    if (this.paused && this.inFlightRequests <= maxInFlightRequests / 2 && this.inFlightBytes <= maxInFlightBytes / 2) {
      this.paused = false;
      if (!this.closed) this.socket.resume();
    }
  }
}

/** A batch off the wire, checked as `mset` checks a caller's: keys and values copied out of the frame. */
function preparedEntries(entries: readonly WireEntry[], maxValueBytes: number): PreparedOperation[] {
  const operations: PreparedOperation[] = [];
  for (const entry of entries) {
    operations.push(
      naming(`entry #${operations.length}`, () => {
        if (entry.kind === 'delete') return prepareDelete(entry.key);
        return preparePut(entry.key, entry.valueIsText ? textOf(entry.value) : entry.value, maxValueBytes);
      }),
    );
  }
  return operations;
}

function textOf(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ValidationError('a text value is not valid UTF-8');
  }
}

/** A clear's range as `Index.clear` takes it: bounds as bytes, no limit when none was sent. */
function rangeOptionsOf(range: WireClearRange): RangeOptions {
  const options: Record<string, unknown> = {};
  for (const [name, bound] of Object.entries(range)) options[name] = bound instanceof Uint8Array ? new Uint8Array(bound) : bound;
  return options as RangeOptions;
}

function commandDone(target: ForwardingTarget, command: WriterCommand): Promise<void> {
  if (command.command === 'flush') return target.flush();
  if (command.command === 'forceMerge') return target.forceMerge(command.maxSegments);
  return target.mergesIdle();
}

/** A failure as FAILED carries it: a closing writer's refusal may succeed against the next writer. */
function failureOf(error: unknown): Failure {
  const retryable = error instanceof ClosedError || error instanceof WriterFailedError;
  if (error instanceof SiltError) return { code: error.code, name: error.name, message: error.message, retryable };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'SILT_INTERNAL', name: 'Error', message, retryable: false };
}
