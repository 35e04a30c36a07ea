import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AlignedWords } from './aligned-words.js';

function asciiByLoop(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

test('isAscii answers as a byte loop does, for any range of bytes at any alignment', () => {
  const case_ = fc
    .record({
      shift: fc.integer({ min: 0, max: 7 }),
      content: fc.uint8Array({ maxLength: 80 }).map((bytes) => bytes.map((byte) => byte & 0x7f)),
      high: fc.array(fc.nat(), { maxLength: 2 }),
      range: fc.tuple(fc.nat(), fc.nat()),
    })
    .map(({ shift, content, high, range }) => {
      // The bytes start `shift` bytes into their buffer, so every alignment of byteOffset is tried.
      const bytes = new Uint8Array(shift + content.length).subarray(shift);
      bytes.set(content);
      for (const at of high) if (bytes.length > 0) bytes[at % bytes.length] = 0x80 | at;
      const [a, b] = range.map((n) => n % (bytes.length + 1));
      return { bytes, start: Math.min(a!, b!), end: Math.max(a!, b!) };
    });
  fc.assert(
    fc.property(case_, ({ bytes, start, end }) => {
      assert.equal(AlignedWords.over(bytes).isAscii(bytes, start, end), asciiByLoop(bytes, start, end));
    }),
    { numRuns: 2000 },
  );
});
