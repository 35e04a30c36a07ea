import { encodeRecord, sealRecord } from '../record-format.js';
import { batchFor } from './workload.js';

export interface ImageRecord {
  readonly firstSeq: number;
  readonly count: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * The bytes of a log file holding batches of the given sizes from
 * `firstSeq` (content from workload.ts), each record stamped with the synced
 * offset `syncedOffsetFor(offset)` returns: 0 (never synced), the record's
 * own offset (synced before each record, as in 'fsync' mode), or anything
 * between.
 */
export function logImage(
  firstSeq: number,
  counts: readonly number[],
  syncedOffsetFor: (offset: number) => number = () => 0,
): { bytes: Uint8Array; records: ImageRecord[] } {
  const parts: Uint8Array[] = [];
  const records: ImageRecord[] = [];
  let offset = 0;
  let sequence = firstSeq;
  for (const count of counts) {
    const record = encodeRecord(sequence, batchFor(sequence, count));
    sealRecord(record, 0, syncedOffsetFor(offset));
    parts.push(record);
    records.push({ firstSeq: sequence, count, offset, length: record.length });
    offset += record.length;
    sequence += count;
  }
  return { bytes: Buffer.concat(parts), records };
}
