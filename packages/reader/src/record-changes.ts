import type { Key, KeyEncoding, Value } from '@silt/segments';
import { compareBytes, type ScanRange } from '@silt/segments/internal';
import type { DecodedRecord } from '@silt/wal';

/**
 * A put, as the change feed yields it: the value as written (a string if it
 * was given as one, else a Uint8Array), or as the owner's `valueEncoding`
 * reads it back.
 */
export interface PutChange<V = Value, K extends Key = Key> {
  readonly key: K;
  readonly value: V;
  readonly sequence: number;
  readonly deleted?: undefined;
}

/** A delete, as the change feed yields it. */
export interface DeleteChange<K extends Key = Key> {
  readonly key: K;
  readonly deleted: true;
  readonly sequence: number;
}

/** One write, as the change feed yields it; `change.deleted` tells the two apart. */
export type Change<V = Value, K extends Key = Key> = PutChange<V, K> | DeleteChange<K>;

/**
 * Appends to `into` the changes of one log record that lie at or after
 * sequence `from` and whose keys are within `range`, in sequence order.
 * The record's bytes are a view into the tail's reused buffer: every key
 * and value is copied (a string is a copy by nature).
 */
export function collectRecordChanges(
  record: DecodedRecord,
  from: number,
  range: ScanRange,
  keyEncoding: KeyEncoding,
  into: Change[],
): void {
  let sequence = record.firstSeq;
  let text: Buffer | undefined;
  record.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
    const at = sequence++;
    if (at < from || !keyInRange(bytes, keyStart, keyLength, range)) return;
    // A Buffer over the same bytes decodes UTF-8 faster than a TextDecoder; made once per record.
    if (text?.buffer !== bytes.buffer || text.byteOffset !== bytes.byteOffset)
      text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keyEnd = keyStart + keyLength;
    const key = keyEncoding === 'binary' ? copyOf(bytes, keyStart, keyEnd) : text.toString('utf8', keyStart, keyEnd);
    if (kind === 'delete') {
      into.push({ key, deleted: true, sequence: at });
      return;
    }
    const valueEnd = valueStart + valueLength;
    const value = kind === 'put-text' ? text.toString('utf8', valueStart, valueEnd) : copyOf(bytes, valueStart, valueEnd);
    into.push({ key, value, sequence: at });
  });
}

/** A plain Uint8Array copy (`slice` of a Buffer would be a view into the reused buffer). */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** Whether the key at `bytes[start, start + length)` lies within the range's bounds. */
function keyInRange(bytes: Uint8Array, start: number, length: number, range: ScanRange): boolean {
  const { lower, upper } = range;
  if (lower !== undefined) {
    const order = compareBytes(bytes, start, length, lower.key, 0, lower.key.length);
    if (order < 0 || (order === 0 && !lower.inclusive)) return false;
  }
  if (upper !== undefined) {
    const order = compareBytes(bytes, start, length, upper.key, 0, upper.key.length);
    if (order > 0 || (order === 0 && !upper.inclusive)) return false;
  }
  return true;
}
