import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogFile } from './log-reader.js';
import { resealedRecord, scanLogFile } from './log-salvage.js';
import { logImage } from './test-support/log-image.js';

test('salvage finds every intact record on both sides of a damaged one, and notes the damage where it starts', () => {
  const { bytes, records } = logImage(10, [3, 2, 4, 1], (offset) => offset);
  const damaged = new Uint8Array(bytes);
  const victim = records[1]!;
  damaged[victim.offset + Math.floor(victim.length / 2)]! ^= 0x5a;
  const scan = scanLogFile(damaged, 10);
  assert.deepEqual(
    scan.records.map((record) => [record.firstSequence, record.lastSequence]),
    [
      [10, 12],
      [15, 18],
      [19, 19],
    ],
  );
  assert.equal(scan.damage[0]?.offset, victim.offset);
  assert.deepEqual(scanLogFile(bytes, 10).damage, [], 'a sound file has no damage');
});

test('salvage takes zeros after the records as a clean end, and notes a record out of its sequence', () => {
  const { bytes } = logImage(1, [2, 2]);
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes);
  assert.deepEqual(scanLogFile(padded, 1).damage, []);
  const misnamed = scanLogFile(bytes, 5);
  assert.equal(misnamed.records.length, 2, 'the records are intact all the same');
  assert.match(misnamed.damage[0]?.detail ?? '', /starts at sequence number 1 where 5 was expected/);
});

test('a resealed record parses at the start of any log file, whatever synced offset it carried', () => {
  const { bytes, records } = logImage(7, [1, 3], (offset) => offset);
  const second = records[1]!;
  const copy = resealedRecord(bytes.subarray(second.offset, second.offset + second.length));
  const parsed = parseLogFile(copy, { file: 'copy.log', firstSequence: 8, isLast: true });
  assert.equal(parsed.end.kind, 'clean');
  assert.deepEqual(
    parsed.records.map((record) => [record.firstSeq, record.lastSeq, record.syncedOffset]),
    [[8, 10, 0]],
  );
});
