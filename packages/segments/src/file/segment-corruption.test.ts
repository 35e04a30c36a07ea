import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { SeededRandom } from '@silt/fs/internal';
import type { Key } from './key-bytes.js';
import type { SegmentInput } from './segment-builder.js';
import { SegmentReader } from './segment-reader.js';
import { buildBytes, sampleEntries, segmentTempDir } from './test-support/segment-fixtures.js';
import { corruptOr, readEverything, type Answer } from './test-support/segment-surgery.js';

/**
 * Every single-byte change and every truncation of a real segment of more
 * than 64 KiB: opening it and reading everything either fails with a
 * CorruptionError naming the file or returns exactly the original answers.
 * Never another exception, a hang, or a wrong value. Done over bytes in
 * memory (memory mode opens from a Uint8Array), plus a sample through files
 * in file mode.
 */

const NAME = 'mutant.seg';
const SOAK = process.env.SOAK === '1';
const dir = segmentTempDir('corruption');

let inputs: SegmentInput[];
let original: Uint8Array;
let probes: Key[];
let expected: Answer[];

before(async () => {
  // Few, large entries keep a full read cheap, so all ~70,000 mutations run in seconds.
  inputs = sampleEntries(150).map((entry, i) =>
    entry.kind === 'put' && i % 4 !== 3
      ? { ...entry, value: typeof entry.value === 'string' ? `${i}`.padEnd(600, '~') : Buffer.alloc(600, i) }
      : entry,
  );
  original = await buildBytes(dir, inputs, { blockSize: 1024 });
  probes = [...inputs.map((input) => input.key), 'absent', Uint8Array.of(0xfe), 'ban'];
  expected = readEverything(SegmentReader.fromBytes(original, { name: NAME }), probes);
});

function outcomeInMemory(bytes: Uint8Array): 'corrupt' | 'intact' {
  const seen = corruptOr(NAME, () => readEverything(SegmentReader.fromBytes(bytes, { name: NAME }), probes));
  if (seen === 'corrupt') return seen;
  assert.deepStrictEqual(seen, expected);
  return 'intact';
}

test('the segment under test is a real one of at least 64 KiB with many blocks', () => {
  assert.ok(original.length >= 64 * 1024, `${original.length} bytes`);
  const stats = SegmentReader.fromBytes(original).stats();
  assert.ok(stats.blocks >= 32 && stats.tombstones > 0, JSON.stringify(stats));
});

test('every single-byte change is a CorruptionError or reads back exactly the original data', (t) => {
  // Tens of thousands of expected errors: their stack traces are most of the cost, and none is looked at.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  t.after(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  const random = new SeededRandom(99);
  const variants = SOAK ? 8 : 1;
  const mutant = new Uint8Array(original.length);
  let corrupt = 0;
  for (let position = 0; position < original.length; position++) {
    for (let variant = 0; variant < variants; variant++) {
      mutant.set(original);
      mutant[position] = original[position]! ^ random.intBetween(1, 255);
      if (outcomeInMemory(mutant) === 'corrupt') corrupt++;
    }
  }
  // Every byte is under some checksum, so every change is caught.
  assert.equal(corrupt, original.length * variants);
});

test('every truncation is a CorruptionError', (t) => {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  t.after(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  for (let length = 0; length < original.length; length++) {
    assert.equal(outcomeInMemory(original.subarray(0, length)), 'corrupt', `truncated to ${length} bytes`);
  }
});

test('a sample of changes and truncations through files in file mode: CorruptionError or the original data', () => {
  const random = new SeededRandom(5);
  const samples = SOAK ? 2000 : 150;
  let corrupt = 0;
  for (let i = 0; i < samples; i++) {
    const path = join(dir, `mutant-${i}.seg`);
    const truncate = i % 5 === 0;
    const bytes = truncate ? original.slice(0, random.intBetween(0, original.length - 1)) : original.slice();
    if (!truncate) {
      // Favour the small sections at both ends, where one byte means more.
      const position =
        i % 3 === 0
          ? random.intBetween(0, 31)
          : i % 3 === 1
            ? random.intBetween(original.length - 4096, original.length - 1)
            : random.intBetween(0, original.length - 1);
      bytes[position] = bytes[position]! ^ random.intBetween(1, 255);
    }
    writeFileSync(path, bytes);
    const seen = corruptOr(path, () => {
      using reader = SegmentReader.open(path, { access: 'file', cacheBytes: 4096 });
      return readEverything(reader, probes);
    });
    if (seen === 'corrupt') corrupt++;
    else assert.deepStrictEqual(seen, expected);
  }
  assert.equal(corrupt, samples);
});
