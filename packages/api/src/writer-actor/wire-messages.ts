import type { Frame } from './frame-reader.js';
import { FrameType, frameTypeName } from './frame-types.js';
import { decodeHello, decodeRefused, decodeWelcome, type ForeignHello, type Hello, type Refused, type Welcome } from './handshake.js';
import { ProtocolError } from './protocol-error.js';
import type { Ack } from './acks-frame-builder.js';
import { decodeCommand, decodeWrites, type WriteRequest, type WriterCommand } from './write-requests.js';
import { decodeAcks, decodeDone, decodeFailed, decodeProtocolError, type Failure, type ProtocolErrorDetails } from './write-replies.js';

/*
 * Decoding by direction: the server takes only what clients send, a client
 * only what servers send. A frame of the other direction is a protocol
 * error, like a malformed one.
 */

/** A frame a client sent, decoded: what the server reads. */
export type ClientMessage =
  | { readonly type: 'hello'; readonly hello: Hello | ForeignHello }
  | { readonly type: 'writes'; readonly requests: readonly WriteRequest[] }
  | { readonly type: 'command'; readonly command: WriterCommand }
  | { readonly type: 'protocolError'; readonly error: ProtocolErrorDetails };

/** A frame the server sent, decoded: what a client reads. */
export type ServerMessage =
  | { readonly type: 'welcome'; readonly welcome: Welcome }
  | { readonly type: 'refused'; readonly refused: Refused }
  | { readonly type: 'acks'; readonly acks: readonly Ack[] }
  | { readonly type: 'failed'; readonly requestId: number; readonly failure: Failure }
  | { readonly type: 'done'; readonly requestId: number }
  | { readonly type: 'protocolError'; readonly error: ProtocolErrorDetails };

export function decodeClientMessage(frame: Frame): ClientMessage {
  switch (frame.type) {
    case FrameType.hello:
      return { type: 'hello', hello: decodeHello(frame.body) };
    case FrameType.writes:
      return { type: 'writes', requests: decodeWrites(frame.body) };
    case FrameType.command:
      return { type: 'command', command: decodeCommand(frame.body) };
    case FrameType.protocolError:
      return { type: 'protocolError', error: decodeProtocolError(frame.body) };
    default:
      throw wrongDirection(frame, 'a client');
  }
}

export function decodeServerMessage(frame: Frame): ServerMessage {
  switch (frame.type) {
    case FrameType.welcome:
      return { type: 'welcome', welcome: decodeWelcome(frame.body) };
    case FrameType.refused:
      return { type: 'refused', refused: decodeRefused(frame.body) };
    case FrameType.acks:
      return { type: 'acks', acks: decodeAcks(frame.body) };
    case FrameType.failed: {
      const { requestId, failure } = decodeFailed(frame.body);
      return { type: 'failed', requestId, failure };
    }
    case FrameType.done:
      return { type: 'done', requestId: decodeDone(frame.body) };
    case FrameType.protocolError:
      return { type: 'protocolError', error: decodeProtocolError(frame.body) };
    default:
      throw wrongDirection(frame, 'the server');
  }
}

function wrongDirection(frame: Frame, sender: string): ProtocolError {
  return new ProtocolError(`a ${frameTypeName(frame.type)} frame is not one ${sender} sends`, 4);
}
