import { ValidationError } from '@silt/fs';
import type { WalEntry } from '@silt/wal';
import { describeType, type Key, type Value } from '@silt/segments';
import { encodeKey, encodeValue } from '@silt/reader';
import { idOf } from './memtable.js';

/** One validated operation: what goes to the log, and what goes to the memtable. */
export interface PreparedOperation {
  readonly entry: WalEntry;
  /** The memtable's id of the key (its bytes as latin1); for an ASCII string key, the key itself. */
  readonly id: string;
  /** The value as the caller gave it (a private copy for bytes); undefined for a delete. */
  readonly value: Value | undefined;
  readonly valueBytes: number;
}

/**
 * Validates and encodes writes before anything is written, so a rejected
 * call changes nothing. Byte keys and values are copied: the caller may
 * reuse its buffers as soon as the call returns.
 */
export function preparePut(key: unknown, value: unknown, maxValueBytes: number): PreparedOperation {
  const keyBytes = ownBytes(encodeKey(key), key);
  const encoded = encodeValue(value, maxValueBytes);
  const bytes = ownBytes(encoded.bytes, value);
  return {
    entry: { kind: 'put', key: keyBytes, value: bytes, valueIsText: encoded.isText },
    id: memtableId(key, keyBytes),
    value: encoded.isText ? (value as string) : bytes,
    valueBytes: bytes.length,
  };
}

export function prepareDelete(key: unknown): PreparedOperation {
  const keyBytes = ownBytes(encodeKey(key), key);
  return { entry: { kind: 'delete', key: keyBytes }, id: memtableId(key, keyBytes), value: undefined, valueBytes: 0 };
}

/** A string whose UTF-8 is as long as it is holds only ASCII, and then is its own latin1 form. */
function memtableId(key: unknown, bytes: Uint8Array): string {
  return typeof key === 'string' && key.length === bytes.length ? key : idOf(bytes);
}

/** `mset` takes an iterable of [key, value] pairs; all of them or none are written. */
export function prepareBatch(pairs: unknown, maxValueBytes: number): PreparedOperation[] {
  if (typeof pairs !== 'object' || pairs === null || !(Symbol.iterator in pairs)) {
    throw new ValidationError(`mset takes an iterable of [key, value] pairs, got ${describeType(pairs)}`);
  }
  const operations: PreparedOperation[] = [];
  for (const pair of pairs as Iterable<unknown>) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new ValidationError(`mset pair #${operations.length} must be a [key, value] array, got ${describeType(pair)}`);
    }
    try {
      operations.push(preparePut(pair[0] as Key, pair[1] as Value, maxValueBytes));
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`mset pair #${operations.length}: ${error.message}`);
      throw error;
    }
  }
  if (operations.length === 0) throw new ValidationError('mset needs at least one [key, value] pair');
  return operations;
}

function ownBytes(bytes: Uint8Array, original: unknown): Uint8Array {
  return bytes === original ? new Uint8Array(bytes) : bytes;
}
