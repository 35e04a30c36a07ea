import { isZeroFrom } from './log-reader.js';
import { MAGIC_BYTES, probeRecord, sealRecord, viewOf } from './record-format.js';

/**
 * Reading a damaged log file for every record still intact in it, past the
 * damage too: what a repair can still recover. Recovery stops at the first
 * bad record (the log must be a prefix); salvage goes on.
 */

/** A record whose checksum and contents verify, wherever in its file it lies. */
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

/**
 * Every intact record of one log file. From the start, records are read
 * one after another; where one does not verify, the damage is noted and
 * the scan moves to the next place the record magic appears. A record's
 * checksum covers its header, so the sequence numbers an intact record
 * claims hold, whatever the file's name says; a record out of the expected
 * sequence is noted too. Zeros after the records (written ahead in 'fsync'
 * mode) are no damage.
 */
export function scanLogFile(bytes: Uint8Array, nameSequence: number): LogFileScan {
  const records: IntactLogRecord[] = [];
  const damage: LogDamage[] = [];
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = viewOf(bytes);
  let at = 0;
  // Unknown past damage: the damaged record's sequence numbers cannot be read.
  let expected: number | undefined = nameSequence;
  // Whether `at` is where a record must start (the file's start, or right after an intact record).
  let boundary = true;
  while (at < bytes.length) {
    const probe = probeRecord(bytes, view, at);
    if (probe.kind === 'valid') {
      const { record } = probe;
      if (expected !== undefined && record.firstSeq !== expected) {
        damage.push({ offset: at, detail: `the record starts at sequence number ${record.firstSeq} where ${expected} was expected` });
      }
      records.push({ offset: at, length: record.length, firstSequence: record.firstSeq, lastSequence: record.lastSeq });
      expected = record.lastSeq + 1;
      at += record.length;
      boundary = true;
      continue;
    }
    if (boundary && isZeroFrom(bytes, at)) break;
    if (boundary) damage.push({ offset: at, detail: 'no intact record here (damaged bytes, or a write a crash cut short)' });
    boundary = false;
    expected = undefined;
    at = haystack.indexOf(MAGIC_BYTES, at + 1);
    if (at < 0) break;
  }
  return { records, damage };
}

/**
 * A copy of one intact record that is valid at any offset of any log file:
 * its synced offset set to 0 (it claims nothing about the file it goes
 * into) and its checksum computed again.
 */
export function resealedRecord(record: Uint8Array): Uint8Array {
  const copy = new Uint8Array(record);
  sealRecord(copy, 0, 0);
  return copy;
}
