import type { FileHandle } from '@silt/fs';

const BUFFER_BYTES = 1024 * 1024;

/**
 * Appends to a new file through one reused 1 MiB buffer, so a build of any
 * size makes few, large writes and never holds the file in memory.
 */
export class OutputFile {
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private buffered = 0;
  private written = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Bytes appended so far, buffered or not: the file offset of the next byte. */
  get position(): number {
    return this.written + this.buffered;
  }

  append(data: Uint8Array): void {
    if (data.length >= BUFFER_BYTES / 2) {
      this.flush();
      this.handle.write(data, this.written);
      this.written += data.length;
      return;
    }
    if (this.buffered + data.length > BUFFER_BYTES) this.flush();
    this.buffer.set(data, this.buffered);
    this.buffered += data.length;
  }

  flush(): void {
    if (this.buffered === 0) return;
    this.handle.write(this.buffer.subarray(0, this.buffered), this.written);
    this.written += this.buffered;
    this.buffered = 0;
  }
}
