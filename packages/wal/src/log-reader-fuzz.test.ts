import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CorruptionError } from '@silt/fs';
import { UnsupportedWalVersionError } from './errors.js';
import { parseLogFile, type ParsedLogFile } from './log-reader.js';
import {
  encodeRecord,
  FORMAT_MAX_RECORD_BYTES,
  probeRecord,
  RECORD_HEADER_BYTES,
  sealRecord,
  verifiedLengthAt,
  viewOf,
} from './record-format.js';
import type { WalEntry } from './wal-entry.js';
import { logImage } from './test-support/log-image.js';

/**
 * Property tests of the parser. Random bytes mostly fail the checksum, so
 * the interesting runs recompute checksums after damaging a file: then the
 * header checks and the entry decoder are what stands between the damage
 * and the caller.
 */

const RUNS = process.env.SOAK === '1' ? 5000 : 300;

function parseBoth(bytes: Uint8Array): ParsedLogFile[] {
  return [true, false].map((isLast) => parseLogFile(bytes, { file: 'fuzz.log', firstSequence: 1, isLast }));
}

/** What every parse must satisfy, whatever the input. */
function assertWellBehaved(parsed: ParsedLogFile, bytes: Uint8Array): void {
  let expectedStart = 0;
  let expectedSeq = 1;
  for (const record of parsed.records) {
    assert.equal(record.offset, expectedStart);
    assert.equal(record.firstSeq, expectedSeq);
    assert.ok(record.entries.length >= 1 && record.lastSeq === record.firstSeq + record.entries.length - 1);
    expectedStart += record.length;
    expectedSeq = record.lastSeq + 1;
  }
  assert.equal(parsed.validLength, expectedStart);
  assert.ok(parsed.validLength <= bytes.length);
  // A clean end is the end of the bytes, or of the newest file's records before zeros written ahead.
  if (parsed.end.kind === 'clean') assert.ok(bytes.subarray(parsed.validLength).every((byte) => byte === 0));
  if (parsed.end.kind === 'corrupt') {
    assert.ok(parsed.end.error instanceof CorruptionError || parsed.end.error instanceof UnsupportedWalVersionError);
  }
  // A torn write leaves only a bad tail: nothing whose checksum verifies may follow a torn end.
  if (parsed.end.kind === 'torn') {
    const view = viewOf(bytes);
    for (let at = parsed.end.offset + 1; at < bytes.length; at++) {
      assert.equal(
        typeof verifiedLengthAt(bytes, view, at),
        'string',
        `an intact record at ${at} follows the torn end at ${parsed.end.offset}`,
      );
    }
  }
}

/** Recomputes the CRC of every record the damaged bytes still frame (magic and a length that fits). */
function resealFramedRecords(bytes: Uint8Array): void {
  const view = viewOf(bytes);
  let offset = 0;
  while (bytes.length - offset >= RECORD_HEADER_BYTES && view.getUint32(offset, true) === 0x4c415753) {
    const length = view.getUint32(offset + 8, true);
    if (length < RECORD_HEADER_BYTES || length > bytes.length - offset) return;
    const synced = view.getUint32(offset + 28, true);
    sealRecord(bytes, offset, synced);
    offset += length;
  }
}

const entryArbitrary: fc.Arbitrary<WalEntry> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), key: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({
    kind: fc.constant('put' as const),
    key: fc.uint8Array({ maxLength: 40 }),
    value: fc.uint8Array({ maxLength: 200 }),
    valueIsText: fc.boolean(),
  }),
);

test('random bytes parse to a clean, torn or corrupt end, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
      for (const parsed of parseBoth(bytes)) assertWellBehaved(parsed, bytes);
    }),
    { numRuns: RUNS },
  );
});

test('any batch of entries round-trips through encode, seal and probe', () => {
  fc.assert(
    fc.property(
      fc.array(entryArbitrary, { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 20 }),
      (entries, firstSeq) => {
        const bytes = encodeRecord(firstSeq, entries);
        sealRecord(bytes, 0, 0);
        const probe = probeRecord(bytes, viewOf(bytes), 0);
        assert.equal(probe.kind, 'valid');
        if (probe.kind !== 'valid') return;
        assert.equal(probe.record.firstSeq, firstSeq);
        assert.deepEqual(probe.record.entries.map(plain), entries.map(plain));
      },
    ),
    { numRuns: RUNS },
  );
});

test('a real log damaged at random places, with checksums recomputed, still parses to typed outcomes', () => {
  const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 12 }),
      fc.array(edit, { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (counts, edits, synced) => {
        const { bytes } = logImage(1, counts, synced ? (offset) => offset : () => 0);
        for (const { at, value } of edits) bytes[at % bytes.length] = value;
        resealFramedRecords(bytes);
        for (const parsed of parseBoth(bytes)) assertWellBehaved(parsed, bytes);
      },
    ),
    { numRuns: RUNS },
  );
});

test('records with arbitrary header fields and payload but a valid checksum are decoded or refused, never crash', () => {
  fc.assert(
    fc.property(
      fc.record({
        version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
        flags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
        seqLow: fc.oneof(fc.constant(1), fc.nat({ max: 0xffffffff })),
        seqHigh: fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })),
        count: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.nat({ max: 0xffffffff })),
        synced: fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })),
        payload: fc.uint8Array({ maxLength: 300 }),
      }),
      (fields) => {
        const bytes = new Uint8Array(RECORD_HEADER_BYTES + fields.payload.length);
        const view = viewOf(bytes);
        bytes.set([0x53, 0x57, 0x41, 0x4c], 0);
        view.setUint32(8, bytes.length, true);
        bytes[12] = fields.version;
        bytes[13] = fields.flags;
        view.setUint32(16, fields.seqLow, true);
        view.setUint32(20, fields.seqHigh, true);
        view.setUint32(24, fields.count, true);
        bytes.set(fields.payload, RECORD_HEADER_BYTES);
        sealRecord(bytes, 0, fields.synced);
        const probe = probeRecord(bytes, view, 0);
        assert.ok(['valid', 'malformed', 'unsupported'].includes(probe.kind), probe.kind);
        if (probe.kind === 'valid') assert.equal(probe.record.entries.length, fields.count);
        for (const parsed of parseBoth(bytes)) assertWellBehaved(parsed, bytes);
      },
    ),
    { numRuns: RUNS },
  );
});

test('a length field claiming more than the format allows is refused before anything is read', () => {
  const { bytes } = logImage(1, [1, 1]);
  viewOf(bytes).setUint32(8, FORMAT_MAX_RECORD_BYTES + 1, true);
  for (const parsed of parseBoth(bytes)) {
    assert.equal(parsed.records.length, 0);
    assert.notEqual(parsed.end.kind, 'clean');
  }
});

function plain(entry: WalEntry): unknown {
  return entry.kind === 'delete'
    ? { kind: 'delete', key: [...entry.key] }
    : { kind: 'put', key: [...entry.key], value: [...entry.value], text: entry.valueIsText ?? false };
}
