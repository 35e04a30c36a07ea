import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nodeFileSystem } from '@silt/fs';
import { parseLogFile } from './log-reader.js';
import { readLogRange } from './log-range-reader.js';
import { encodeRecord, RECORD_HEADER_BYTES, sealRecord, type DecodedRecord } from './record-format.js';
import type { LogRangeRecord, WalEntry, WalEntryInput } from './wal-entry.js';
import { WriteAheadLog } from './write-ahead-log.js';
import { inTempDir } from './test-support/temp-dir.js';

/**
 * `visit` hands over each entry as positions in the file's bytes; `entries`
 * builds objects. Both must say what was appended: the same kinds, key and
 * value bytes, and whether the value was text.
 */

const SOAK = process.env.SOAK === '1';
const RUNS = SOAK ? 3000 : 200;
/** Each run opens a real log in a fresh directory. */
const LOG_RUNS = SOAK ? 300 : 30;

/** One entry in a form `deepEqual` compares by content: what visit, entries and the input must agree on. */
type Plain =
  | { readonly kind: 'delete'; readonly key: number[] }
  | { readonly kind: 'put'; readonly key: number[]; readonly value: number[]; readonly text: boolean };

const utf8 = (data: Uint8Array | string): number[] => [...(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)];

function plainInput(entry: WalEntryInput): Plain {
  if (entry.kind === 'delete') return { kind: 'delete', key: utf8(entry.key) };
  return {
    kind: 'put',
    key: utf8(entry.key),
    value: utf8(entry.value),
    text: typeof entry.value === 'string' || entry.valueIsText === true,
  };
}

function plainEntry(entry: WalEntry): Plain {
  if (entry.kind === 'delete') return { kind: 'delete', key: [...entry.key] };
  return { kind: 'put', key: [...entry.key], value: [...entry.value], text: entry.valueIsText === true };
}

/**
 * What `visit` hands over, copied out. Also checks that every position lies
 * in the record's entry area, in order: a visitor reads the bytes directly.
 */
function visited(record: LogRangeRecord | DecodedRecord, recordStart?: number, recordEnd?: number): Plain[] {
  const seen: Plain[] = [];
  let previousEnd = recordStart === undefined ? 0 : recordStart + RECORD_HEADER_BYTES;
  record.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
    const end = Math.max(keyStart + keyLength, valueStart + valueLength);
    assert.ok(
      keyStart >= previousEnd && end <= (recordEnd ?? bytes.length),
      `entry ${seen.length} lies at ${keyStart}..${end}, outside its record`,
    );
    previousEnd = end;
    const key = [...bytes.subarray(keyStart, keyStart + keyLength)];
    if (kind === 'delete') {
      assert.equal(valueLength, 0, 'a delete has no value');
      seen.push({ kind, key });
    } else {
      seen.push({ kind: 'put', key, value: [...bytes.subarray(valueStart, valueStart + valueLength)], text: kind === 'put-text' });
    }
  });
  return seen;
}

/** Strings with one-, two-, three- and four-byte characters, and a lone surrogate (written as U+FFFD). */
const text = fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '\ud800'), maxLength: 30 });
const bytes = fc.uint8Array({ maxLength: 300 });
const data = fc.oneof(bytes, text);

const entryInput: fc.Arbitrary<WalEntryInput> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), key: data }),
  fc.record({ kind: fc.constant('put' as const), key: data, value: data }),
  fc.record({ kind: fc.constant('put' as const), key: data, value: data, valueIsText: fc.boolean() }),
);
const batch = fc.array(entryInput, { minLength: 1, maxLength: 12 });

test('visit hands over each entry of a record as entries has it and as it was appended: kind, key, value, text or bytes', () => {
  fc.assert(
    fc.property(fc.array(batch, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 2 ** 40 }), (batches, firstSeq) => {
      // Several records in one file, so a record's entries start past offset 0 and have neighbours.
      const parts: Uint8Array[] = [];
      let sequence = firstSeq;
      for (const entries of batches) {
        const record = encodeRecord(sequence, entries);
        sealRecord(record, 0, 0);
        parts.push(record);
        sequence += entries.length;
      }
      const file = Buffer.concat(parts);
      const parsed = parseLogFile(file, { file: 'visit.log', firstSequence: firstSeq, isLast: true });
      assert.equal(parsed.end.kind, 'clean');
      assert.equal(parsed.records.length, batches.length);
      parsed.records.forEach((record, i) => {
        let handedBytes: Uint8Array | undefined;
        record.visit((_kind, bytes) => (handedBytes ??= bytes));
        assert.equal(handedBytes, file, "visit hands over the file's own bytes, not a copy");
        const fromVisit = visited(record, record.offset, record.offset + record.length);
        assert.equal(fromVisit.length, record.lastSeq - record.firstSeq + 1);
        assert.deepEqual(fromVisit, record.entries.map(plainEntry));
        assert.deepEqual(fromVisit, batches[i]!.map(plainInput));
        assert.deepEqual(visited(record), fromVisit, 'a second visit sees the same');
      });
    }),
    { numRuns: RUNS },
  );
});

test('records read with readLogRange, across rotated files, visit what was appended', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(batch, { minLength: 1, maxLength: 25 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (batches, fromFraction, toFraction) =>
        inTempDir('visit', async (dir) => {
          const wal = await WriteAheadLog.open(dir, { durability: 'none', maxFileBytes: 1024 });
          const appended = new Map<number, WalEntryInput[]>();
          try {
            for (const entries of batches) appended.set(await wal.append(entries), entries);
          } finally {
            await wal.close();
          }
          const last = batches.reduce((sum, entries) => sum + entries.length, 0);
          const [from, to] = [fromFraction, toFraction].map((fraction) => 1 + Math.floor(fraction * (last - 1))).sort((a, b) => a - b) as [
            number,
            number,
          ];
          const records = readLogRange(nodeFileSystem, dir, from, to);
          assert.ok(records.length > 0 && records[0]!.firstSeq <= from && records.at(-1)!.lastSeq >= to);
          for (const record of records) {
            const input = appended.get(record.firstSeq);
            assert.ok(input !== undefined, `record ${record.firstSeq} is a batch that was appended`);
            const fromVisit = visited(record);
            assert.equal(fromVisit.length, record.lastSeq - record.firstSeq + 1);
            assert.deepEqual(fromVisit, record.entries.map(plainEntry));
            assert.deepEqual(fromVisit, input.map(plainInput));
          }
        }),
    ),
    { numRuns: LOG_RUNS },
  );
});
