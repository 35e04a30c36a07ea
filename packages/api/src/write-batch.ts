import { ValidationError } from '@silt/fs';
import type { WalEntryInput } from '@silt/wal';
import { type Key, type Value } from '@silt/segments';
import { checkedKeyId, checkWellFormed, describeType, ownedKey } from '@silt/segments/internal';
import type { MemtableOperation } from './memtable.js';

/**
 * One validated write: the same object goes to the log (strings are
 * written there as UTF-8 in place) and into the memtable, so a write costs
 * one object and no buffer of its own for string keys and values.
 */
export type PreparedOperation = WalEntryInput & MemtableOperation;

/**
 * Validates a put before anything is written, so a rejected call changes
 * nothing. String keys and values must be well-formed UTF-16 (a lone
 * surrogate has no UTF-8 form). Byte keys and values are copied: the caller
 * may reuse its buffers as soon as the call returns.
 */
export function preparePut(key: unknown, value: unknown, maxValueBytes: number): PreparedOperation {
  const ownKey = ownedKey(key);
  const id = checkedKeyId(ownKey);
  if (typeof value === 'string') {
    checkWellFormed(value, 'a value');
    const valueBytes = value.length === 0 ? 0 : Buffer.byteLength(value, 'utf8');
    checkValueBytes(valueBytes, maxValueBytes);
    return { kind: 'put', key: ownKey, value, id, keyBytes: id.length, valueBytes };
  }
  if (!(value instanceof Uint8Array)) throw new ValidationError(`a value must be a string or a Uint8Array, got ${describeType(value)}`);
  checkValueBytes(value.length, maxValueBytes);
  return { kind: 'put', key: ownKey, value: new Uint8Array(value), id, keyBytes: id.length, valueBytes: value.length };
}

export function prepareDelete(key: unknown): PreparedOperation {
  const ownKey = ownedKey(key);
  const id = checkedKeyId(ownKey);
  return { kind: 'delete', key: ownKey, id, keyBytes: id.length, valueBytes: 0 };
}

/** Turns what a caller writes into a stored value (a value encoding's `encode`), or throws a ValidationError. */
export type EncodeValue = (value: unknown) => Value;

const asGiven: EncodeValue = (value) => value as Value;

/** `mset` takes an iterable of [key, value] pairs; all of them or none are written. */
export function prepareBatch(pairs: unknown, maxValueBytes: number, encode: EncodeValue = asGiven): PreparedOperation[] {
  if (typeof pairs !== 'object' || pairs === null || !(Symbol.iterator in pairs)) {
    throw new ValidationError(`mset takes an iterable of [key, value] pairs, got ${describeType(pairs)}`);
  }
  const operations: PreparedOperation[] = [];
  try {
    for (const pair of pairs as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw new ValidationError(`it must be a [key, value] array, got ${describeType(pair)}`);
      operations.push(preparePut(pair[0] as Key, encode(pair[1]), maxValueBytes));
    }
  } catch (error) {
    throw named(`mset pair #${operations.length}`, error);
  }
  if (operations.length === 0) throw new ValidationError('mset needs at least one [key, value] pair');
  return operations;
}

/** A ValidationError of `prepare` says which operation of a batch it is about. */
export function naming<T>(which: string, prepare: () => T): T {
  try {
    return prepare();
  } catch (error) {
    throw named(which, error);
  }
}

/** `error`, prefixed with which operation of a batch it is about if it is a ValidationError. */
export function named(which: string, error: unknown): unknown {
  return error instanceof ValidationError ? new ValidationError(`${which}: ${error.message}`, { cause: error.cause }) : error;
}

function checkValueBytes(length: number, maxValueBytes: number): void {
  if (length > maxValueBytes) throw new ValidationError(`a value is ${length} bytes; the limit is ${maxValueBytes} bytes`);
}
