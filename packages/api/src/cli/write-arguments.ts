import type { Key, Value } from '@silt/segments';
import { indexOptionsSchema } from '../index.js';
import { UsageError } from './cli-errors.js';
import { checkedKey, checkedPair, RecordError } from './records.js';

/** The index's default value limit: what a CLI write is checked against before anything is opened. */
export const MAX_VALUE_BYTES = indexOptionsSchema.parse({}).maxValueBytes;

/**
 * Keys and values from the command line, checked before the index is
 * opened: a bad argument must write nothing, not even a new index directory.
 */
export function argumentPair(key: Key, value: Value): readonly [Key, Value] {
  return asUsage(() => checkedPair(key, value, MAX_VALUE_BYTES));
}

export function argumentKey(key: Key): Key {
  return asUsage(() => checkedKey(key));
}

function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RecordError) throw new UsageError(error.message);
    throw error;
  }
}
