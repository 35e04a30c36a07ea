import { CorruptionError } from '@silt/fs';
import { UnsupportedWalVersionError } from './errors.js';
import { probeRecord, viewOf, type DecodedRecord } from './record-format.js';
import { intactRecordsFrom, type IntactRecord } from './record-scan.js';

/**
 * Pure parsing of one log file's bytes: no I/O, so recovery, replay and the
 * mutation tests share it and a test can try thousands of damaged copies a
 * second.
 *
 * Telling a torn write from damage: a crash can only leave the end of the
 * log unfinished. So a bad record in the newest file is a torn tail only
 * when nothing after it verifies; a bad record followed by any intact
 * record is corruption. (The synced offset every record carries then says
 * whether the bad bytes were certainly durable, which the error states.) In
 * a file that is not the newest, every byte was synced before the next file
 * was created, so any bad record is corruption.
 */

export interface ParseOptions {
  /** Path or name used in error messages. */
  readonly file: string;
  /** The sequence number in the file's name; its first record must carry it. */
  readonly firstSequence: number;
  /** Whether this is the newest file, the only one that may end in a torn write. */
  readonly isLast: boolean;
  /** The next file's first sequence number; this file's records must end before it. */
  readonly sequenceLimit?: number;
}

export type LogEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly error: CorruptionError | UnsupportedWalVersionError };

export interface ParsedLogFile {
  /** Every record before the end, in order. */
  readonly records: DecodedRecord[];
  /**
   * Bytes taken by those records: where a torn tail is cut or a damaged file
   * is truncated to keep its valid prefix. A clean newest file may hold
   * zeros past it, written ahead of the records.
   */
  readonly validLength: number;
  readonly end: LogEnd;
}

export function parseLogFile(bytes: Uint8Array, options: ParseOptions): ParsedLogFile {
  const view = viewOf(bytes);
  const records: DecodedRecord[] = [];
  let offset = 0;
  let expected = options.firstSequence;
  const stop = (end: LogEnd): ParsedLogFile => ({ records, validLength: offset, end });
  const corrupt = (detail: string): ParsedLogFile =>
    stop({ kind: 'corrupt', offset, error: new CorruptionError(options.file, offset, detail) });

  while (offset < bytes.length) {
    const probe = probeRecord(bytes, view, offset);
    switch (probe.kind) {
      case 'valid': {
        const problem = sequenceProblem(probe.record, expected, options.sequenceLimit);
        if (problem !== undefined) return corrupt(problem);
        records.push(probe.record);
        offset += probe.record.length;
        expected = probe.record.lastSeq + 1;
        break;
      }
      case 'unsupported':
        return stop({ kind: 'corrupt', offset, error: new UnsupportedWalVersionError(options.file, offset, probe.version) });
      case 'malformed':
        return corrupt(`record checksum verifies but its contents do not: ${probe.reason}`);
      case 'invalid':
        // Zeros written ahead of the records ('fsync' mode) end the newest file.
        if (options.isLast && isZeroFrom(bytes, offset)) return stop({ kind: 'clean' });
        return stop(classifyBadRecord(bytes, offset, probe.reason, options));
    }
  }
  return stop({ kind: 'clean' });
}

/**
 * Parses the file at `index` of a log's files (oldest first): only the last
 * may end torn or in zeros, and each must end before the next one's name.
 */
export function parseLogFileAt(
  bytes: Uint8Array,
  files: readonly { readonly path: string; readonly firstSequence: number }[],
  index: number,
): ParsedLogFile {
  const file = files[index]!;
  const next = files[index + 1];
  return parseLogFile(bytes, {
    file: file.path,
    firstSequence: file.firstSequence,
    isLast: next === undefined,
    sequenceLimit: next?.firstSequence,
  });
}

/** Whether every byte from `offset` to the end is zero: zeros written ahead of the records. */
export function isZeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function sequenceProblem(record: DecodedRecord, expected: number, limit: number | undefined): string | undefined {
  if (record.firstSeq !== expected) {
    return `record starts at sequence number ${record.firstSeq} where ${expected} was expected`;
  }
  if (limit !== undefined && record.lastSeq >= limit) {
    return `record runs to sequence number ${record.lastSeq}, into the next file which starts at ${limit}`;
  }
  return undefined;
}

function classifyBadRecord(bytes: Uint8Array, offset: number, reason: string, options: ParseOptions): LogEnd {
  const corrupt = (detail: string): LogEnd => ({ kind: 'corrupt', offset, error: new CorruptionError(options.file, offset, detail) });
  if (!options.isLast) return corrupt(`${reason}, in a log file that is not the newest (it was synced whole before the next was created)`);
  // One pass over what follows: the first intact record, and any that vouches the bad bytes were synced.
  let witness: IntactRecord | undefined;
  let voucher: IntactRecord | undefined;
  for (const record of intactRecordsFrom(bytes, offset + 1)) {
    witness ??= record;
    if (record.syncedOffset > offset && record.syncedOffset <= record.offset) {
      voucher = record;
      break;
    }
  }
  if (witness === undefined) return { kind: 'torn', offset, reason };
  if (voucher !== undefined) {
    return corrupt(
      `${reason}; the intact record at offset ${voucher.offset} was written after this offset had been synced, so this is damage, not a torn write`,
    );
  }
  return corrupt(
    `${reason}; an intact record follows at offset ${witness.offset}, so this is not a torn write ` +
      '(a crash tears only the end of the log; a power loss that persisted later unsynced bytes and not these can leave this)',
  );
}
