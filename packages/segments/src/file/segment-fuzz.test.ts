import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CorruptionError } from '@silt/fs';
import type { Key } from './key-bytes.js';
import type { SegmentInput } from './segment-builder.js';
import { UnsupportedVersionError } from './segment-errors.js';
import type { AccessMode } from './segment-options.js';
import { SegmentReader } from './segment-reader.js';
import { buildBytes, compareKeys, sortedUnique } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';
import { SegmentModel, assertReaderMatchesModel, toModelEntries } from './test-support/segment-model.js';
import { resealSegment, sectionsOf, type SectionName } from './test-support/segment-surgery.js';

/**
 * Damage that checksums cannot catch: bytes inside one section are changed
 * and every checksum is recomputed, so the parser itself meets the change.
 * Opening, verifying and reading must then either fail with CorruptionError
 * (or, for a changed version field, UnsupportedVersionError), or give
 * answers that agree with one another: every read method equals the model
 * built from the damaged segment's own entries. Never another exception,
 * a hang, or an allocation sized by an unchecked length (which would throw
 * a RangeError).
 */

const RUNS = process.env.SOAK === '1' ? 3000 : 150;
const dir = tempDir('fuzz');
let fileNumber = 0;

const key = fc.oneof(
  fc.array(fc.constantFrom(0x00, 0x61, 0x62, 0xc3, 0xa9, 0xff), { maxLength: 5 }).map((bytes) => Uint8Array.from(bytes)),
  fc.array(fc.constantFrom('a', 'b', 'é', '😀'), { maxLength: 4 }).map((units) => units.join('')),
);
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.uint8Array({ maxLength: 12 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
);
const input: fc.Arbitrary<SegmentInput> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tombstone' as const), key }) },
);
// Extreme bytes make extreme lengths and counts.
const newByte = fc.oneof(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), fc.integer({ min: 0, max: 255 }));
const mutation = fc.record({ at: fc.nat(), byte: newByte });
const sectionName = fc.constantFrom<SectionName>(
  'header',
  'data',
  'data',
  'blockIndex',
  'blockIndex',
  'hash',
  'hash',
  'keyRange',
  'footer',
  'footer',
);

interface Damage {
  readonly section: SectionName;
  readonly mutations: ReadonlyArray<{ readonly at: number; readonly byte: number }>;
}

/** Changes bytes inside one section and reseals; false when the section is empty. */
function damage(bytes: Uint8Array, { section, mutations }: Damage): boolean {
  const target = sectionsOf(bytes).find((candidate) => candidate.name === section)!;
  const length = target.end - target.start;
  if (length === 0) return false;
  for (const { at, byte } of mutations) bytes[target.start + (at % length)] = byte;
  resealSegment(bytes);
  return true;
}

function openDamaged(bytes: Uint8Array, access: AccessMode): SegmentReader<Uint8Array> {
  if (access === 'memory') return SegmentReader.fromBytes(bytes, { name: 'damaged.seg', keyEncoding: 'binary' });
  const path = join(dir, `damaged-${++fileNumber}.seg`);
  writeFileSync(path, bytes);
  return SegmentReader.open(path, { access, cacheBytes: 600, keyEncoding: 'binary' });
}

/**
 * Reads without verifying first, as a server would: the answers may be
 * anything the damaged bytes say, but the only error allowed is the typed one.
 */
function readUnverified(bytes: Uint8Array, access: AccessMode, probes: readonly Key[]): void {
  try {
    using reader = openDamaged(bytes, access);
    for (const probe of probes) {
      reader.get(probe);
      reader.lookup(probe);
      reader.getAll(probe);
      reader.closestKey(probe);
      for (const _ of reader.near(probe, { greedy: true, limit: 5 }));
      for (const _ of reader.entries({ gte: probe, limit: 3 }));
      for (const _ of reader.range({ lte: probe, reverse: true, limit: 3 }));
    }
    for (const _ of reader.entries());
    for (const _ of reader.entries({ reverse: true }));
    reader.stats();
  } catch (error) {
    if (error instanceof CorruptionError || error instanceof UnsupportedVersionError) return;
    throw error;
  }
}

/** Reads the damaged segment every way there is, after `verify()`; returns how it ended. */
function readDamaged(bytes: Uint8Array, access: AccessMode, probes: readonly Key[]): 'rejected' | 'consistent' {
  readUnverified(bytes, access, probes);
  try {
    using reader = openDamaged(bytes, access);
    reader.verify();
    const entries = [...reader.entries()];
    const model = new SegmentModel(
      entries.map((entry) => ({ key: entry.key, kind: entry.kind, ...(entry.kind === 'put' ? { value: entry.value } : {}) })),
    );
    const keys = [...entries.map((entry) => entry.key), ...probes];
    assertReaderMatchesModel(reader, model, {
      keys,
      ranges: [{}, { reverse: true }, { gte: keys[0] ?? 'a', limit: 3 }, { prefix: 'a' }, { lt: 'b', reverse: true }],
      nears: keys.slice(0, 4).map((near) => ({ key: near, options: { greedy: true, limit: 4 } })),
    });
    return 'consistent';
  } catch (error) {
    if (error instanceof CorruptionError || error instanceof UnsupportedVersionError) return 'rejected';
    throw error;
  }
}

async function fuzz(multiValue: boolean): Promise<void> {
  let rejected = 0;
  let consistent = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(input, { minLength: 1, maxLength: 40 }),
      fc.constantFrom(64, 128, 512),
      fc.record({ section: sectionName, mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) }),
      fc.constantFrom<AccessMode>('memory', 'memory', 'mmap', 'file'),
      async (raw, blockSize, where, access) => {
        const inputs = multiValue
          ? raw.filter((entry) => entry.kind === 'put').sort((a, b) => compareKeys(a.key, b.key))
          : sortedUnique(raw);
        const original = await buildBytes(dir, inputs, { blockSize, multiValue });
        const bytes = original.slice();
        if (!damage(bytes, where)) return;
        const outcome = readDamaged(
          bytes,
          access,
          inputs.map((entry) => entry.key),
        );
        if (outcome === 'rejected') rejected++;
        else consistent++;
      },
    ),
    { numRuns: RUNS },
  );
  // Both outcomes occur: the parser is really reached, and not everything is refused.
  assert.ok(rejected > 0 && consistent > 0, `rejected ${rejected}, consistent ${consistent}`);
}

test('damage behind recomputed checksums is a CorruptionError or self-consistent data', { timeout: 120_000 }, async () => {
  await fuzz(false);
});

test('the same holds for multi-value segments', { timeout: 120_000 }, async () => {
  await fuzz(true);
});

test('intact segments pass the same reading (the harness itself is sound)', async () => {
  const inputs = sortedUnique<SegmentInput>([
    { kind: 'put', key: 'a', value: '1' },
    { kind: 'tombstone', key: 'b' },
    { kind: 'put', key: Uint8Array.of(0xff), value: Uint8Array.of(1) },
  ]);
  const bytes = await buildBytes(dir, inputs, { blockSize: 64 });
  resealSegment(bytes);
  for (const access of ['memory', 'mmap', 'file'] as const) {
    assert.equal(
      readDamaged(
        bytes,
        access,
        inputs.map((entry) => entry.key),
      ),
      'consistent',
    );
    using reader = openDamaged(bytes, access);
    assertReaderMatchesModel(reader, new SegmentModel(toModelEntries(inputs)), {
      keys: inputs.map((entry) => entry.key),
      ranges: [{}],
      nears: [],
    });
  }
});
