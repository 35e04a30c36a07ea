import type { Index, Key, Value } from 'silt';

/** One write of a batch, its key already in stored form (`toStoredKey`). */
export type WriteOperation =
  { readonly type: 'put'; readonly key: Key; readonly value: Value } | { readonly type: 'del'; readonly key: Key };

/**
 * The one place where the adapter's batches (and `clear`'s deletes, below)
 * meet the index; single puts and deletes are `set` and `delete`. A batch,
 * puts and deletes alike, is `Index.batch`: every operation checked before
 * any is written, then one log record, whole or absent after any crash.
 */
export function writeOperations(index: Index, operations: readonly WriteOperation[]): Promise<void> {
  return index.batch(operations);
}

/**
 * Deletes the keys (stored form) in one synchronous run: this process sees
 * them go together; the log gathers the deletes of one event-loop turn
 * into one record (up to 1 MiB of them), not a promise of atomicity.
 */
export function deleteKeys(index: Index, keys: readonly Key[]): Promise<void> {
  return Promise.all(keys.map((key) => index.delete(key))).then(() => undefined);
}
