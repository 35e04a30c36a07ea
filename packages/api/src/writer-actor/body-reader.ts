import { ProtocolError } from './protocol-error.js';
import { FRAME_HEADER_BYTES } from './frame-types.js';

/**
 * A cursor over one frame's body for the decoders. Every read checks the
 * bytes left first, so a decoder never reads out of bounds, and every
 * failure is a ProtocolError naming the message, the field and its byte
 * offset within the frame.
 */
export class BodyReader {
  private at = 0;
  private view: DataView | undefined;

  constructor(
    private readonly body: Uint8Array,
    private readonly message: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.body.length - this.at;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.body[this.at++]!;
  }

  u32(field: string): number {
    this.need(4, field);
    const body = this.body;
    const at = this.at;
    this.at = at + 4;
    return (body[at]! | (body[at + 1]! << 8) | (body[at + 2]! << 16) | (body[at + 3]! << 24)) >>> 0;
  }

  f64(field: string): number {
    this.need(8, field);
    this.view ??= new DataView(this.body.buffer, this.body.byteOffset, this.body.byteLength);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  /** `length` bytes as a view into the body. */
  bytes(length: number, field: string): Uint8Array {
    this.need(length, field);
    const start = this.at;
    this.at = start + length;
    return this.body.subarray(start, this.at);
  }

  /**
   * A u32 count of at least 1, checked against the bytes left at the
   * smallest size an item can take: a count no body could hold is refused
   * before anything is read or allocated for it.
   */
  count(field: string, minItemBytes: number): number {
    const at = this.at;
    const count = this.u32(field);
    if (count === 0) this.fail(`${field} is 0; at least 1 is required`, at);
    if (count > this.remaining / minItemBytes) {
      this.fail(`${field} ${count} cannot fit the ${this.remaining} bytes left (each takes at least ${minItemBytes})`, at);
    }
    return count;
  }

  /** The rest of the body, as a view. */
  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  end(): void {
    if (this.remaining > 0) this.fail(`${this.remaining} bytes are left after the last field`);
  }

  fail(detail: string, bodyOffset = this.at): never {
    throw new ProtocolError(`${this.message}: ${detail}`, FRAME_HEADER_BYTES + bodyOffset);
  }

  private need(bytes: number, field: string): void {
    if (bytes > this.remaining) this.fail(`${field} needs ${bytes} bytes and the frame has ${this.remaining} left`);
  }
}
