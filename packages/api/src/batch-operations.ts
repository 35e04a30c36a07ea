import { ValidationError } from '@silt/fs';
import type { Key, Value } from '@silt/segments';
import { describeType } from '@silt/segments/internal';
import { named, prepareDelete, preparePut, type EncodeValue, type PreparedOperation } from './write-batch.js';

/** One operation of `index.batch([...])`, in the shape classic-level and lmdb-js users know. */
export type BatchOperation<V = Value> =
  { readonly type: 'put'; readonly key: Key; readonly value: V } | { readonly type: 'del'; readonly key: Key };

/**
 * Validates every operation of a batch before anything is written: one bad
 * operation refuses the whole batch, its position named. Puts and deletes
 * may mix, and a key may appear more than once (the last operation wins, as
 * in the log's order). An empty array is a batch of nothing.
 */
export function prepareOperations(operations: unknown, maxValueBytes: number, encode: EncodeValue): PreparedOperation[] {
  if (!Array.isArray(operations)) {
    throw new ValidationError(
      `batch takes an array of { type: 'put', key, value } and { type: 'del', key } operations, got ${describeType(operations)}`,
    );
  }
  const prepared = new Array<PreparedOperation>(operations.length);
  let i = 0;
  try {
    // One try around the loop, not a closure per operation: a batch of 1,000 is a hot path.
    for (; i < operations.length; i++) prepared[i] = prepareOperation(operations[i], maxValueBytes, encode);
  } catch (error) {
    throw named(`batch operation #${i}`, error);
  }
  return prepared;
}

function prepareOperation(operation: unknown, maxValueBytes: number, encode: EncodeValue): PreparedOperation {
  if (typeof operation !== 'object' || operation === null) {
    throw new ValidationError(`an operation must be an object { type, key, value? }, got ${describeType(operation)}`);
  }
  const { type, key, value } = operation as Record<string, unknown>;
  if (type === 'put') return preparePut(key, encode(value), maxValueBytes);
  if (type === 'del') return prepareDelete(key);
  throw new ValidationError(`an operation's type must be 'put' or 'del', got ${describeType(type)}`);
}
