import { validateDelete, validatePut, type Index, type Key, type Value } from 'silt';

/** One write of a batch, its key already in stored form (`toStoredKey`). */
export type WriteOperation =
  { readonly type: 'put'; readonly key: Key; readonly value: Value } | { readonly type: 'del'; readonly key: Key };

/**
 * The one place where the adapter's batches (and `clear`'s deletes, below)
 * meet the index, so that a batch call on `Index` can replace the mapping
 * in one edit; single puts and deletes are `set` and `delete`.
 *
 * What is atomic, with the calls `Index` has today:
 * - a batch of puts only is one `mset`: one log record, whole or absent
 *   after any crash;
 * - a batch with deletes is issued in one synchronous run of calls, in
 *   order (`mset` for each run of puts, `delete` for each delete): this
 *   process's reads see all of it or none of it, and nothing is written if
 *   any operation is invalid (all are checked first), but it is more than
 *   one log record, so a crash can keep part of it.
 */
export function writeOperations(index: Index, operations: readonly WriteOperation[], maxValueBytes: number): Promise<void> {
  if (operations.every((operation) => operation.type === 'put')) {
    return index.mset(operations.map((operation) => [operation.key, operation.value] as const));
  }
  for (const operation of operations) {
    if (operation.type === 'put') validatePut(operation.key, operation.value, maxValueBytes);
    else validateDelete(operation.key);
  }
  const writes: Array<Promise<void>> = [];
  let puts: Array<readonly [Key, Value]> = [];
  for (const operation of operations) {
    if (operation.type === 'put') {
      puts.push([operation.key, operation.value]);
      continue;
    }
    if (puts.length > 0) writes.push(index.mset(puts));
    puts = [];
    writes.push(index.delete(operation.key));
  }
  if (puts.length > 0) writes.push(index.mset(puts));
  return Promise.all(writes).then(() => undefined);
}

/**
 * Deletes the keys (stored form) in one synchronous run: this process sees
 * them go together; the log gathers the deletes of one event-loop turn
 * into one record (up to 1 MiB of them), not a promise of atomicity.
 */
export function deleteKeys(index: Index, keys: readonly Key[]): Promise<void> {
  return Promise.all(keys.map((key) => index.delete(key))).then(() => undefined);
}
