/** An append-only byte buffer that doubles when full; `bytes` is a Buffer so strings can be written in place. */
export class GrowableBytes {
  bytes: Buffer;
  length = 0;

  constructor(initialCapacity: number) {
    this.bytes = Buffer.allocUnsafe(initialCapacity);
  }

  /** Makes room for `extra` more bytes after `length`. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  append(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** Empties the buffer, dropping storage that grew far beyond `keepCapacity` (after a huge value). */
  clear(keepCapacity: number): void {
    this.length = 0;
    if (this.bytes.length > keepCapacity * 4) this.bytes = Buffer.allocUnsafe(keepCapacity);
  }
}
