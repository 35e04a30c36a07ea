import { createConnection, type Socket } from 'node:net';
import { ValidationError } from '@silt/fs';
import type { WalEntryInput } from '@silt/wal';
import { FrameReader } from './frame-reader.js';
import { encodeHello, PROTOCOL_NAME, PROTOCOL_VERSION, type Welcome } from './handshake.js';
import { ProtocolError } from './protocol-error.js';
import { decodeServerMessage, type ServerMessage } from './wire-messages.js';
import { encodeCommand, type WriterCommand } from './write-requests.js';
import { encodeProtocolError, type Failure } from './write-replies.js';
import { WritesFrameBuilder, type ClearRangeInput } from './writes-frame-builder.js';
import type { SocketAddress } from './socket-address.js';

/** What a connection hands its owner: answers, and its end. */
export interface ConnectionHandlers {
  acknowledged(requestId: number, sequence: number): void;
  failed(requestId: number, failure: Failure): void;
  done(requestId: number): void;
  /** Called once, when the connection ends for any reason (the writer died, a protocol error, `close()`). */
  closed(reason: Error): void;
}

/** How long a client waits for WELCOME before it gives the connection up and tries again. */
const HANDSHAKE_TIMEOUT_MS = 2000;

/** Who the client is, for HELLO. */
export interface ClientIdentity {
  readonly clientId: string;
  readonly clientName?: string;
}

/** The writer answered HELLO with REFUSED (a protocol version it does not speak). */
export class WriterRefusedConnectionError extends ProtocolError {}

/**
 * A client's connection to the writer actor. Writes added during one turn
 * of the event loop go out together in one WRITES frame at the end of the
 * turn's microtasks, so concurrent writers in a process share frames (and
 * the writer's group commit shares their fsync).
 */
export class WriterConnection {
  private builder = new WritesFrameBuilder();
  private flushQueued = false;
  private ended = false;

  private constructor(
    private readonly socket: Socket,
    private readonly frames: FrameReader,
    readonly welcome: Welcome,
    private readonly handlers: ConnectionHandlers,
  ) {
    // Idle, the connection does not keep the process alive; `hold` while answers are owed.
    socket.unref();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.end(error));
    socket.on('close', () => this.end(new Error('the writer closed the connection')));
  }

  /** Connects and shakes hands; rejects with the socket's error (ENOENT, ECONNREFUSED: no writer listens) or the writer's REFUSED. */
  static connect(address: SocketAddress, identity: ClientIdentity, handlers: ConnectionHandlers): Promise<WriterConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(address.path);
      const frames = new FrameReader();
      // A writer answers HELLO at once (it listens only once it recovered); one that does not is not there.
      const deadline = setTimeout(
        () => fail(new Error(`the writer did not answer HELLO within ${HANDSHAKE_TIMEOUT_MS} ms`)),
        HANDSHAKE_TIMEOUT_MS,
      );
      const fail = (error: Error): void => {
        clearTimeout(deadline);
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer): void => {
        let messages: ServerMessage[];
        try {
          messages = frames.push(chunk).map(decodeServerMessage);
        } catch (error) {
          return fail(error as Error);
        }
        const first = messages[0];
        if (first === undefined) return;
        clearTimeout(deadline);
        socket.off('data', onData).off('error', fail).off('close', onClose);
        if (first.type === 'refused')
          return fail(new WriterRefusedConnectionError(`the writer refused the connection: ${first.refused.message}`));
        if (first.type !== 'welcome') return fail(new ProtocolError(`the writer's first frame was ${first.type}, not WELCOME`));
        const connection = new WriterConnection(socket, frames, first.welcome, handlers);
        resolve(connection);
        for (const message of messages.slice(1)) connection.dispatch(message);
      };
      const onClose = (): void => fail(new Error('the writer closed the connection during the handshake'));
      socket.setNoDelay(true);
      socket.on('data', onData).on('error', fail).on('close', onClose);
      socket.write(encodeHello({ protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, pid: process.pid, ...identity }));
    });
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Keeps the process alive while `waiting` (answers are owed), and lets it end when not. */
  hold(waiting: boolean): void {
    if (waiting) this.socket.ref();
    else this.socket.unref();
  }

  /** Queues a batch for this turn's frame. A batch too large for any frame is refused with a ValidationError. */
  addBatch(requestId: number, entries: readonly WalEntryInput[]): void {
    this.add(() => this.builder.addBatch(requestId, entries));
  }

  addClear(requestId: number, range: ClearRangeInput): void {
    this.add(() => this.builder.addClear(requestId, range));
  }

  sendCommand(command: WriterCommand): void {
    this.sendQueued();
    this.socket.write(encodeCommand(command));
  }

  close(): void {
    this.socket.destroy();
    this.end(new Error('the connection was closed'));
  }

  private add(addTo: () => void): void {
    try {
      addTo();
    } catch (error) {
      if (!(error instanceof ValidationError) || this.builder.requestCount === 0) throw error;
      // The frame is full: send it and start the next with this request.
      this.sendQueued();
      addTo();
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.sendQueued());
  }

  private sendQueued(): void {
    this.flushQueued = false;
    if (this.builder.requestCount === 0) return;
    const frame = this.builder.finish();
    if (!this.ended) this.socket.write(frame);
  }

  private receive(chunk: Buffer): void {
    let messages: ServerMessage[];
    try {
      messages = this.frames.push(chunk).map(decodeServerMessage);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.socket.end(encodeProtocolError({ code: error.code, message: error.message }));
      return this.end(error);
    }
    for (const message of messages) this.dispatch(message);
  }

  private dispatch(message: ServerMessage): void {
    if (this.ended) return;
    switch (message.type) {
      case 'acks':
        for (const { requestId, sequence } of message.acks) this.handlers.acknowledged(requestId, sequence);
        return;
      case 'failed':
        return this.handlers.failed(message.requestId, message.failure);
      case 'done':
        return this.handlers.done(message.requestId);
      case 'protocolError':
        this.socket.destroy();
        return this.end(new ProtocolError(`the writer found the stream broken: ${message.error.message}`));
      default:
        this.socket.destroy();
        return this.end(new ProtocolError(`a ${message.type} frame after the handshake`));
    }
  }

  private end(reason: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.closed(reason);
  }
}
