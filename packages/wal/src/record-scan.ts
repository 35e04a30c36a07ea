import { MAGIC_BYTES, probeRecord, syncedOffsetAt, verifiedLengthAt, viewOf } from './record-format.js';

/**
 * Finding intact records past damage. Candidates are found by their magic
 * (a memchr), so a scan costs one CRC per real record, not one per byte.
 * What a torn write can leave is only a bad tail: a record that verifies
 * after a bad one proves the bad one is damage, and tells what would be
 * lost by cutting there.
 */

/** A record found by a scan: its checksum verifies. */
export interface IntactRecord {
  readonly offset: number;
  readonly length: number;
  /** How far the file was known synced when this record was written. */
  readonly syncedOffset: number;
}

/** Records whose checksum verifies, from `from` on, in file order. */
export function* intactRecordsFrom(bytes: Uint8Array, from: number): Generator<IntactRecord> {
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = viewOf(bytes);
  let next = from;
  for (;;) {
    const at = haystack.indexOf(MAGIC_BYTES, next);
    if (at < 0) return;
    const length = verifiedLengthAt(bytes, view, at);
    if (typeof length === 'string') {
      next = at + 1;
      continue;
    }
    yield { offset: at, length, syncedOffset: syncedOffsetAt(view, at) };
    next = at + length;
  }
}

/** What intact records a stretch of dropped bytes holds. */
export interface IntactSummary {
  readonly records: number;
  /** The highest sequence number those records carry (version 1, well-formed records only). */
  readonly lastSequence: number | undefined;
}

export function summarizeIntactRecords(bytes: Uint8Array, from: number): IntactSummary {
  const view = viewOf(bytes);
  let records = 0;
  let lastSequence: number | undefined;
  for (const intact of intactRecordsFrom(bytes, from)) {
    records++;
    const probe = probeRecord(bytes, view, intact.offset);
    if (probe.kind !== 'valid') continue;
    lastSequence = Math.max(lastSequence ?? 0, probe.record.lastSeq);
  }
  return { records, lastSequence };
}
