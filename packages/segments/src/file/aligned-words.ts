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
    return new AlignedWords(new Int32Array(bytes.buffer, bytes.byteOffset + skip, count), skip);
  }

  isAscii(bytes: Uint8Array, start: number, end: number): boolean {
    let any = 0;
    let i = start;
    while (i < end && (i - this.first) % 4 !== 0) any |= bytes[i++]!;
    const wordEnd = this.first + Math.floor((end - this.first) / 4) * 4;
    if (i >= this.first && wordEnd > i) {
      const words = this.words;
      for (let w = (i - this.first) >> 2, last = (wordEnd - this.first) >> 2; w < last; w++) any |= words[w]!;
      i = wordEnd;
    }
    while (i < end) any |= bytes[i++]!;
    return (any & 0x80808080) === 0;
  }
}
