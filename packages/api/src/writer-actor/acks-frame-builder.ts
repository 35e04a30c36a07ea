import { ValidationError } from '@silt/fs';
import { checkRequestId, putUint32, writeFrameHeader } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, FrameType, MAX_FRAME_BYTES } from './frame-types.js';

/** One request acknowledged: the sequence number its last operation took (or the last one acknowledged, if it wrote nothing). */
export interface Ack {
  readonly requestId: number;
  readonly sequence: number;
}

/** request id (u32) and sequence (f64). */
export const ACK_BYTES = 12;
/** Header, then the ack count. */
const ACKS_PREFIX_BYTES = FRAME_HEADER_BYTES + 4;
const INITIAL_CAPACITY = 1024;
/** The most acks one frame holds. */
export const MAX_ACKS_PER_FRAME = Math.floor((MAX_FRAME_BYTES - 1 - 4) / ACK_BYTES);

/**
 * Builds one ACKS frame: the server acknowledges every request a group
 * commit made durable in one frame per connection. An ack past
 * MAX_ACKS_PER_FRAME is refused with a ValidationError; finish and start
 * another frame.
 */
export class AcksFrameBuilder {
  private buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  private length = ACKS_PREFIX_BYTES;
  private acks = 0;

  get ackCount(): number {
    return this.acks;
  }

  add(requestId: number, sequence: number): void {
    checkRequestId(requestId);
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new ValidationError(`an ack's sequence is a whole number from 0 to 2^53 - 1, got ${String(sequence)}`);
    }
    if (this.acks === MAX_ACKS_PER_FRAME)
      throw new ValidationError(`an ACKS frame holds at most ${MAX_ACKS_PER_FRAME} acks; finish this one first`);
    if (this.length + ACK_BYTES > this.buffer.length) this.grow();
    putUint32(this.buffer, this.length, requestId);
    this.view.setFloat64(this.length + 4, sequence, true);
    this.length += ACK_BYTES;
    this.acks++;
  }

  /** The frame of every ack added since the last finish; the bytes are the caller's and the builder starts a new frame. */
  finish(): Uint8Array {
    if (this.acks === 0) throw new ValidationError('an ACKS frame holds at least one ack; add one before finishing');
    writeFrameHeader(this.buffer, FrameType.acks, this.length - 4);
    putUint32(this.buffer, FRAME_HEADER_BYTES, this.acks);
    const frame = Buffer.allocUnsafe(this.length);
    this.buffer.copy(frame, 0, 0, this.length);
    this.length = ACKS_PREFIX_BYTES;
    this.acks = 0;
    return frame;
  }

  private grow(): void {
    const grown = Buffer.allocUnsafe(this.buffer.length * 2);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}
