import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError } from '@silt/fs';
import { parseLogFile } from './log-reader.js';
import { logImage } from './test-support/log-image.js';
import { entryMismatch } from './test-support/workload.js';

const COUNTS = [1, 3, 1, 7, 2, 1, 5, 1];
const syncedBeforeEach = (offset: number): number => offset; // 'fsync' mode: each record's own start was durable
const neverSynced = (): number => 0;

function parse(bytes: Uint8Array, isLast: boolean, firstSequence = 1, sequenceLimit?: number) {
  return parseLogFile(bytes, { file: 'wal/0000000000000001.log', firstSequence, isLast, sequenceLimit });
}

test('a whole file parses to every record in order with its content', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const parsed = parse(bytes, true);
  assert.deepEqual(parsed.end, { kind: 'clean' });
  assert.equal(parsed.validLength, bytes.length);
  assert.deepEqual(
    parsed.records.map((r) => r.firstSeq),
    records.map((r) => r.firstSeq),
  );
  for (const record of parsed.records) {
    record.entries.forEach((entry, i) => assert.equal(entryMismatch(entry, record.firstSeq + i), undefined));
  }
});

test('an empty file is a clean log with no records', () => {
  assert.deepEqual(parse(new Uint8Array(0), true), { records: [], validLength: 0, end: { kind: 'clean' } });
});

test('a record cut short at the end of the newest file is a torn tail: the records before it are the log', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const last = records.at(-1)!;
  const parsed = parse(bytes.subarray(0, last.offset + 10), true);
  assert.equal(parsed.end.kind, 'torn');
  assert.equal(parsed.validLength, last.offset);
  assert.equal(parsed.records.length, records.length - 1);
});

test('garbage followed by an intact record is corruption even where no record vouches the bytes were synced: only a bad tail is a torn write', () => {
  const { bytes, records } = logImage(1, COUNTS, neverSynced);
  const damaged = bytes.slice();
  const victim = records[3]!;
  damaged.fill(0, victim.offset + 2, victim.offset + 20);
  const parsed = parse(damaged, true);
  assert.equal(parsed.end.kind, 'corrupt');
  if (parsed.end.kind !== 'corrupt') return;
  assert.equal(parsed.end.error.offset, victim.offset);
  assert.match(parsed.end.error.message, new RegExp(`intact record follows at offset ${records[4]!.offset}, so this is not a torn write`));
  assert.equal(parsed.validLength, victim.offset);
  assert.equal(parsed.records.length, 3, 'the valid prefix is still reported');
});

test('garbage in the last record with nothing intact after it is a torn tail, synced or not', () => {
  for (const synced of [neverSynced, syncedBeforeEach]) {
    const { bytes, records } = logImage(1, COUNTS, synced);
    const damaged = bytes.slice();
    const last = records.at(-1)!;
    damaged.fill(0x5a, last.offset + 5, last.offset + 12);
    const parsed = parse(damaged, true);
    assert.equal(parsed.end.kind, 'torn');
    assert.equal(parsed.validLength, last.offset);
    assert.equal(parsed.records.length, records.length - 1);
  }
});

test('damage followed by a record written after that offset was synced is corruption naming file and offset', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const damaged = bytes.slice();
  const victim = records[3]!;
  damaged[victim.offset + 40]! ^= 0xff;
  const parsed = parse(damaged, true);
  assert.equal(parsed.end.kind, 'corrupt');
  if (parsed.end.kind !== 'corrupt') return;
  assert.ok(parsed.end.error instanceof CorruptionError);
  assert.equal(parsed.end.error.file, 'wal/0000000000000001.log');
  assert.equal(parsed.end.error.offset, victim.offset);
  assert.match(parsed.end.error.message, /not a torn write/);
  assert.equal(parsed.records.length, 3, 'the valid prefix is still reported');
});

test('any bad record in a file that is not the newest is corruption, even at its end', () => {
  const { bytes, records } = logImage(1, COUNTS, neverSynced);
  const last = records.at(-1)!;
  const parsed = parse(bytes.subarray(0, last.offset + 10), false);
  assert.equal(parsed.end.kind, 'corrupt');
  assert.equal(parsed.validLength, last.offset);
});

test('a file whose first record does not carry the file name sequence number is corruption', () => {
  const { bytes } = logImage(5, COUNTS, syncedBeforeEach);
  const parsed = parse(bytes, true, 1);
  assert.equal(parsed.end.kind, 'corrupt');
  assert.equal(parsed.records.length, 0);
});

test('records running into the next file sequence range are corruption', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const parsed = parse(bytes, false, 1, 10);
  assert.equal(parsed.end.kind, 'corrupt');
  const kept = parsed.records.at(-1)!;
  assert.ok(kept.lastSeq < 10);
  assert.ok(parsed.records.length < records.length);
});

test("zeros after the newest file's records (written ahead in 'fsync' mode) are its clean end", () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes);
  const parsed = parse(padded, true);
  assert.equal(parsed.end.kind, 'clean');
  assert.equal(parsed.records.length, records.length);
  assert.equal(parsed.validLength, bytes.length);
});

test('zeros after the records of a file that is not the newest are corruption (it was trimmed and synced before the next file)', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes);
  const parsed = parse(padded, false);
  assert.equal(parsed.end.kind, 'corrupt');
  assert.equal(parsed.records.length, records.length);
});

test('a torn record before the zeros written ahead is still a torn tail', () => {
  const { bytes, records } = logImage(1, COUNTS, syncedBeforeEach);
  const last = records.at(-1)!;
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes.subarray(0, last.offset + 20));
  const parsed = parse(padded, true);
  assert.equal(parsed.end.kind, 'torn');
  assert.equal(parsed.validLength, last.offset);
});
