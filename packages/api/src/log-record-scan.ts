import { crc32 } from 'node:zlib';
import { parseLogFile, RECORD_HEADER_BYTES } from '@silt/wal';

/** A log record whose checksum and contents verify, wherever in its file it lies. */
export interface IntactLogRecord {
  readonly offset: number;
  readonly length: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
}

/** Where a log file stops verifying: a damaged record, a torn write, or a record out of sequence. */
export interface LogDamage {
  readonly offset: number;
  readonly detail: string;
}

export interface LogFileScan {
  /** In file order. */
  readonly records: IntactLogRecord[];
  /** In file order; empty for a sound file. */
  readonly damage: LogDamage[];
}

/*
 * The record header fields this file reads (see @silt/wal's FORMAT.md,
 * "Record"). The log's own reader stops at the first bad record, and it
 * checks each record's synced offset against where the record lies in its
 * file; repair needs records past damage, and copies them into a file of
 * their own at other offsets. So it finds them here and copies them
 * re-sealed with a synced offset of 0 (nothing claimed durable), checking
 * each with parseLogFile, which stays the judge of a record's contents.
 */
const RECORD_MAGIC = Buffer.from('SWAL', 'latin1');
const CRC_OFFSET = 4;
const LENGTH_OFFSET = 8;
/** The CRC covers the record from here to its end. */
const CHECKSUMMED_FROM = 8;
const FIRST_SEQUENCE_LOW_OFFSET = 16;
const FIRST_SEQUENCE_HIGH_OFFSET = 20;
const SYNCED_OFFSET_OFFSET = 28;

/**
 * Every intact record of one log file, past damage too: what `silt repair`
 * can still recover from it. From the start, records are read one after
 * another; where one does not verify, the damage is noted and the scan
 * moves to the next place the record magic appears. A record's checksum
 * covers its header, so the sequence numbers an intact record claims hold,
 * whatever the file's name says; a record out of the expected sequence is
 * noted too.
 */
export function scanLogFile(bytes: Uint8Array, file: string, nameSequence: number): LogFileScan {
  const records: IntactLogRecord[] = [];
  const damage: LogDamage[] = [];
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  // Unknown past damage: the damaged record's sequence numbers cannot be read.
  let expected: number | undefined = nameSequence;
  // Whether `at` is where a record must start (the file's start, or right after an intact record).
  let boundary = true;
  while (at < bytes.length) {
    const record = intactRecordAt(bytes, at, file);
    if (record !== undefined) {
      if (expected !== undefined && record.firstSequence !== expected) damage.push({ offset: at, detail: `the record starts at sequence number ${record.firstSequence} where ${expected} was expected` });
      records.push(record);
      expected = record.lastSequence + 1;
      at += record.length;
      boundary = true;
      continue;
    }
    // Zeros past the records are written ahead by the log ('fsync' mode), not damage.
    if (boundary && zerosFrom(haystack, at)) break;
    if (boundary) damage.push({ offset: at, detail: 'no intact record here (damaged bytes, or a write a crash cut short)' });
    boundary = false;
    expected = undefined;
    at = haystack.indexOf(RECORD_MAGIC, at + 1);
    if (at < 0) break;
  }
  return { records, damage };
}

/** The record at `offset` if its checksum and contents verify. */
export function intactRecordAt(bytes: Uint8Array, offset: number, file: string): IntactLogRecord | undefined {
  if (offset + RECORD_HEADER_BYTES > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < RECORD_MAGIC.length; i++) if (bytes[offset + i] !== RECORD_MAGIC[i]) return undefined;
  const length = view.getUint32(offset + LENGTH_OFFSET, true);
  if (length < RECORD_HEADER_BYTES || offset + length > bytes.length) return undefined;
  if (crc32(bytes.subarray(offset + CHECKSUMMED_FROM, offset + length)) !== view.getUint32(offset + CRC_OFFSET, true)) return undefined;
  const copy = resealedRecord(bytes.subarray(offset, offset + length));
  const firstSequence = view.getUint32(offset + FIRST_SEQUENCE_LOW_OFFSET, true) + view.getUint32(offset + FIRST_SEQUENCE_HIGH_OFFSET, true) * 2 ** 32;
  if (firstSequence < 1 || !Number.isSafeInteger(firstSequence)) return undefined;
  const parsed = parseLogFile(copy, { file, firstSequence, isLast: true });
  const [record] = parsed.records;
  if (record === undefined || parsed.records.length !== 1 || parsed.end.kind !== 'clean') return undefined;
  return { offset, length, firstSequence: record.firstSeq, lastSequence: record.lastSeq };
}

/**
 * A copy of one verified record that is valid at any offset of any log
 * file: its synced offset set to 0 (it claims nothing about the file it
 * goes into) and its checksum computed again.
 */
export function resealedRecord(record: Uint8Array): Uint8Array {
  const copy = new Uint8Array(record);
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  view.setUint32(SYNCED_OFFSET_OFFSET, 0, true);
  view.setUint32(CRC_OFFSET, crc32(copy.subarray(CHECKSUMMED_FROM)), true);
  return copy;
}

function zerosFrom(bytes: Buffer, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
