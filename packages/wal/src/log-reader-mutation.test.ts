import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CorruptionError } from '@silt/fs';
import { parseLogFile, type ParsedLogFile } from './log-reader.js';
import type { DecodedRecord } from './record-format.js';
import type { WalEntry } from './wal-entry.js';
import { WriteAheadLog } from './write-ahead-log.js';
import { makeTempDir } from './test-support/temp-dir.js';

/**
 * Every single-byte change and every truncation of a real log file of at
 * least 64 KiB, run on the pure parser: the result is the records before the
 * damage (compared with what was written) ending in a torn tail (only when
 * nothing intact follows the damage, in the newest file) or a
 * CorruptionError; never another exception, never a wrong record.
 */

const MIN_FILE_BYTES = 64 * 1024;
const SOAK = process.env.SOAK === '1';

/** Entries of a few hundred bytes, so the 64 KiB file holds a few hundred of them. */
function entryFor(sequence: number): WalEntry {
  const key = new TextEncoder().encode(`k${sequence}`);
  if (sequence % 9 === 0) return { kind: 'delete', key };
  const value = new Uint8Array(60 + ((sequence * 7919) % 300));
  for (let i = 0; i < value.length; i++) value[i] = (sequence * 31 + i * 17) & 0xff;
  return { kind: 'put', key, value, valueIsText: sequence % 4 === 0 };
}

interface RealLog {
  readonly bytes: Uint8Array;
  readonly file: string;
  readonly reference: readonly DecodedRecord[];
  readonly written: ReadonlyMap<number, WalEntry>;
}

/**
 * Writes a log in 'fsync' mode (records vouch for everything before their
 * group), then more in 'write' mode without a background sync (a tail no
 * record vouches for), with concurrent and sequential appends of mixed batch
 * sizes so that groups vary.
 */
async function writeRealLog(path: string): Promise<RealLog> {
  const written = new Map<number, WalEntry>();
  const append = (wal: WriteAheadLog, count: number): Promise<number> => {
    const first = wal.lastSequence + 1;
    const entries = Array.from({ length: count }, (_, i) => entryFor(first + i));
    entries.forEach((entry, i) => written.set(first + i, entry));
    return wal.append(entries);
  };
  const fsyncLog = await WriteAheadLog.open(path, { durability: 'fsync', maxFileBytes: 1024 * 1024 });
  for (let round = 0; fsyncLog.stats().bytes < MIN_FILE_BYTES * 0.85; round++) {
    const burst = 1 + (round % 6);
    await Promise.all(Array.from({ length: burst }, (_, i) => append(fsyncLog, 1 + ((round + i) % 5))));
  }
  await fsyncLog.close();
  const writeLog = await WriteAheadLog.open(path, { durability: 'write', syncIntervalMs: 60_000, maxFileBytes: 1024 * 1024 });
  while (writeLog.stats().bytes < MIN_FILE_BYTES + 4096) await append(writeLog, 1 + (writeLog.lastSequence % 3));
  await writeLog.close();
  const file = `${path}/0000000000000001.log`;
  const bytes = new Uint8Array(readFileSync(file));
  const clean = parseLogFile(bytes, { file, firstSequence: 1, isLast: true });
  assert.deepEqual(clean.end, { kind: 'clean' });
  return { bytes, file, reference: clean.records, written };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/**
 * Throws unless exactly `count` records came back and each is the one
 * written: same place, sequence number and size as in the undamaged file,
 * and lying wholly before the damaged byte, so its bytes are the written
 * ones. Entry by entry against what was appended: the record next to the
 * damage always, every record on every `FULL_CHECK_EVERY`th case.
 */
function assertWrittenPrefix(log: RealLog, parsed: ParsedLogFile, count: number, damageAt: number, what: string, full: boolean): void {
  if (parsed.records.length !== count) assert.fail(`${what}: ${parsed.records.length} records returned, expected ${count}`);
  parsed.records.forEach((record, r) => {
    const reference = log.reference[r]!;
    const same =
      record.firstSeq === reference.firstSeq &&
      record.lastSeq === reference.lastSeq &&
      record.offset === reference.offset &&
      record.length === reference.length &&
      record.offset + record.length <= damageAt;
    if (!same) assert.fail(`${what}: record ${r} is not the one written`);
    if (full || r === count - 1) assertEntriesWritten(log, record, `${what}: record ${r}`);
  });
}

function assertEntriesWritten(log: RealLog, record: DecodedRecord, what: string): void {
  record.entries.forEach((entry, i) => {
    const expected = log.written.get(record.firstSeq + i)!;
    const same =
      entry.kind === expected.kind &&
      sameBytes(entry.key, expected.key) &&
      (entry.kind === 'delete' ||
        (expected.kind === 'put' &&
          sameBytes(entry.value, expected.value) &&
          (entry.valueIsText ?? false) === (expected.valueIsText ?? false)));
    if (!same) assert.fail(`${what}, entry ${i} differs from what was written`);
  });
}

const FULL_CHECK_EVERY = SOAK ? 1 : 64;

function parseGuarded(log: RealLog, bytes: Uint8Array, isLast: boolean, what: string): ParsedLogFile {
  try {
    return parseLogFile(bytes, { file: log.file, firstSequence: 1, isLast });
  } catch (error) {
    return assert.fail(`${what}: parser threw ${String(error)}`);
  }
}

function assertCorruptAt(parsed: ParsedLogFile, offset: number, what: string): void {
  if (parsed.end.kind !== 'corrupt' || !(parsed.end.error instanceof CorruptionError) || parsed.end.error.offset !== offset) {
    assert.fail(`${what}: expected CorruptionError at ${offset}, got ${JSON.stringify(parsed.end)}`);
  }
}

let shared: Promise<RealLog> | undefined;
function realLog(): Promise<RealLog> {
  shared ??= (async () => {
    const dir = makeTempDir('mutation');
    try {
      return await writeRealLog(dir.path);
    } finally {
      dir.remove();
    }
  })();
  return shared;
}

test('the log file under test is real, at least 64 KiB, and spans fsync and write groups', async (t) => {
  const log = await realLog();
  t.diagnostic(`${log.bytes.length} bytes, ${log.reference.length} records`);
  assert.ok(log.bytes.length >= MIN_FILE_BYTES, `${log.bytes.length} bytes`);
  assert.ok(log.reference.length > 50);
  for (const record of log.reference) assertEntriesWritten(log, record, `undamaged record at ${record.offset}`);
});

test('every single-byte change ends the log at the damaged record: a torn tail only in the last record, else CorruptionError, never a wrong record', async () => {
  const log = await realLog();
  const bytes = log.bytes.slice();
  const flips = SOAK ? [0x01, 0x80, 0xff, 0x5a] : [0x01];
  const lastRecordStart = log.reference.at(-1)!.offset;
  let tails = 0;
  let corruptions = 0;
  let record = 0;
  for (let i = 0; i < bytes.length; i++) {
    while (i >= log.reference[record]!.offset + log.reference[record]!.length) record++;
    const start = log.reference[record]!.offset;
    const original = bytes[i]!;
    for (const flip of flips) {
      bytes[i] = original ^ ((flip + i) % 255 || 1);
      const what = `byte ${i} ^ ${flip}`;
      const asNewest = parseGuarded(log, bytes, true, what);
      assertWrittenPrefix(log, asNewest, record, i, `${what} (newest file)`, i % FULL_CHECK_EVERY === 0);
      // Only a bad record with nothing intact after it can be a torn write: here, damage to the last record.
      if (i >= lastRecordStart) {
        if (asNewest.end.kind !== 'torn')
          assert.fail(`${what}: damage to the last record should be a torn tail, got ${JSON.stringify(asNewest.end)}`);
        assert.equal(asNewest.validLength, start, what);
        tails++;
      } else {
        assertCorruptAt(asNewest, start, what);
        corruptions++;
      }
      const asOlder = parseGuarded(log, bytes, false, what);
      assertWrittenPrefix(log, asOlder, record, i, `${what} (older file)`, false);
      assertCorruptAt(asOlder, start, `${what} (older file)`);
    }
    bytes[i] = original;
  }
  assert.equal(tails, (bytes.length - lastRecordStart) * flips.length);
  assert.equal(corruptions, lastRecordStart * flips.length);
});

test('every truncation keeps exactly the whole records before the cut', async () => {
  const log = await realLog();
  let record = 0;
  for (let length = 0; length <= log.bytes.length; length++) {
    while (record < log.reference.length && log.reference[record]!.offset + log.reference[record]!.length <= length) record++;
    const atBoundary = length === (record === 0 ? 0 : log.reference[record - 1]!.offset + log.reference[record - 1]!.length);
    const cut = log.bytes.subarray(0, length);
    const what = `truncated to ${length}`;
    const asNewest = parseGuarded(log, cut, true, what);
    assertWrittenPrefix(log, asNewest, record, length, what, length % FULL_CHECK_EVERY === 0);
    assert.equal(asNewest.end.kind, atBoundary ? 'clean' : 'torn', what);
    const asOlder = parseGuarded(log, cut, false, what);
    assertWrittenPrefix(log, asOlder, record, length, `${what} (older file)`, false);
    if (atBoundary) assert.equal(asOlder.end.kind, 'clean', what);
    else assertCorruptAt(asOlder, asOlder.validLength, `${what} (older file)`);
  }
});
