/**
 * ASCII checks a word at a time over one buffer (`over(bytes)`, then
 * `isAscii(bytes, …)` of the same bytes): a byte loop costs ~1.3 ns a byte
 * in V8, which made the ASCII check of a block as slow as its CRC.
 */
export class AlignedWords {
  private constructor(
    private readonly words: Int32Array,
    /** Index in `bytes` of the first byte of `words[0]`. */
    private readonly first: number,
  ) {}

  static over(bytes: Uint8Array): AlignedWords {
    const skip = (4 - (bytes.byteOffset % 4)) % 4;
    const count = Math.max(0, Math.floor((bytes.length - skip) / 4));
    // No whole word: an empty view, since `byteOffset + skip` may lie past the end of a small buffer.
    const words = count === 0 ? new Int32Array(0) : new Int32Array(bytes.buffer, bytes.byteOffset + skip, count);
    return new AlignedWords(words, skip);
  }

  /** Whether `bytes[start, end)` (of the bytes this was made `over`) holds only bytes below 0x80. */
  isAscii(bytes: Uint8Array, start: number, end: number): boolean {
    const first = this.first;
    // Whole words from the first that starts at or after `start` to the last that ends by `end` (first ≤ 3, so never below 0).
    let word = (start - first + 3) >> 2;
    const wordEnd = (end - first) >> 2;
    let any = 0;
    if (word >= wordEnd) {
      for (let i = start; i < end; i++) any |= bytes[i]!;
      return (any & 0x80) === 0;
    }
    for (let i = start, head = first + word * 4; i < head; i++) any |= bytes[i]!;
    for (const words = this.words; word < wordEnd; word++) any |= words[word]!;
    for (let i = first + wordEnd * 4; i < end; i++) any |= bytes[i]!;
    return (any & 0x80808080) === 0;
  }
}
