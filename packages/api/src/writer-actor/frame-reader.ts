import { getUint32 } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, frameTypeName, isFrameType, type FrameType } from './frame-types.js';
import { ProtocolError } from './protocol-error.js';

/** One frame off the stream: its type and its body (the bytes after the type byte). */
export interface Frame {
  readonly type: FrameType;
  readonly body: Uint8Array;
}

/**
 * Cuts a byte stream (a socket's chunks) into frames. A frame that lies
 * wholly inside one chunk comes back as a view into that chunk, without a
 * copy: decode it before the chunk's memory is used again (a socket's
 * chunks are fresh, so only a caller reusing its own buffer must care).
 * The bytes of a frame cut across chunks are copied as they arrive and
 * joined once it is complete, so each byte is copied at most twice and
 * nothing is allocated for bytes that have not arrived. A length of 0 or
 * over MAX_FRAME_BYTES is refused as soon as its 4 bytes are in, an
 * unknown type as soon as its byte is.
 *
 * After a ProtocolError the stream cannot be trusted: every later push
 * throws the same error, and frames that were complete before the bad
 * bytes in the failing push are not returned.
 */
export class FrameReader {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerBytes = 0;
  private bodyLength = 0;
  private type: FrameType | undefined;
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** Where in the stream the frame being read starts: for messages. */
  private frameStart = 0;
  private failure: ProtocolError | undefined;

  /** Bytes of an unfinished frame held: not 0 when the stream ends means it ended inside a frame. */
  get bufferedBytes(): number {
    return this.headerBytes + this.partBytes;
  }

  /** The frames `chunk` completes, in order. */
  push(chunk: Uint8Array): Frame[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.read(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) this.failure = error;
      throw error;
    }
  }

  private read(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      if (this.headerBytes === 0 && end - at >= FRAME_HEADER_BYTES) {
        const length = this.checkedLength(getUint32(chunk, at));
        const type = this.checkedType(chunk[at + 4]!);
        const frameEnd = at + 4 + length;
        if (frameEnd <= end) {
          frames.push({ type, body: chunk.subarray(at + FRAME_HEADER_BYTES, frameEnd) });
          this.frameStart += 4 + length;
          at = frameEnd;
          continue;
        }
        this.headerBytes = FRAME_HEADER_BYTES;
        this.bodyLength = length - 1;
        this.type = type;
        at += FRAME_HEADER_BYTES;
        continue;
      }
      if (this.headerBytes < FRAME_HEADER_BYTES) {
        at = this.readHeaderByte(chunk, at, frames);
        continue;
      }
      at = this.readBody(chunk, at, frames);
    }
    return frames;
  }

  /** One byte of a header cut across chunks; a header of a type-only frame completes that frame. */
  private readHeaderByte(chunk: Uint8Array, at: number, frames: Frame[]): number {
    this.header[this.headerBytes++] = chunk[at]!;
    if (this.headerBytes === 4) this.bodyLength = this.checkedLength(getUint32(this.header, 0)) - 1;
    if (this.headerBytes === FRAME_HEADER_BYTES) {
      this.type = this.checkedType(this.header[4]!);
      if (this.bodyLength === 0) this.complete(frames, new Uint8Array(0));
    }
    return at + 1;
  }

  private readBody(chunk: Uint8Array, at: number, frames: Frame[]): number {
    const wanted = this.bodyLength - this.partBytes;
    const taken = Math.min(wanted, chunk.length - at);
    if (taken === wanted && this.partBytes === 0) {
      this.complete(frames, chunk.subarray(at, at + taken));
      return at + taken;
    }
    // Copied, not viewed: the caller may reuse the chunk once push returns.
    const part = new Uint8Array(taken);
    part.set(chunk.subarray(at, at + taken));
    this.parts.push(part);
    this.partBytes += taken;
    if (this.partBytes === this.bodyLength) this.complete(frames, joined(this.parts, this.bodyLength));
    return at + taken;
  }

  private complete(frames: Frame[], body: Uint8Array): void {
    frames.push({ type: this.type!, body });
    this.frameStart += 4 + 1 + this.bodyLength;
    this.headerBytes = 0;
    this.bodyLength = 0;
    this.type = undefined;
    this.parts = [];
    this.partBytes = 0;
  }

  private checkedLength(length: number): number {
    if (length === 0)
      throw new ProtocolError(`the frame at stream byte ${this.frameStart} has length 0; a frame holds at least its type byte`, 0);
    if (length > MAX_FRAME_BYTES) {
      throw new ProtocolError(
        `the frame at stream byte ${this.frameStart} claims ${length} bytes; a frame holds at most ${MAX_FRAME_BYTES}`,
        0,
      );
    }
    return length;
  }

  private checkedType(type: number): FrameType {
    if (!isFrameType(type))
      throw new ProtocolError(`the frame at stream byte ${this.frameStart} has unknown type ${frameTypeName(type)}`, 4);
    return type;
  }
}

function joined(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const body = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return body;
}
