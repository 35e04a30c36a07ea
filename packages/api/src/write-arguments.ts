import { indexOptionsSchema } from './index-options.js';
import { prepareDelete, preparePut } from './write-batch.js';

/** The `maxValueBytes` an index opened with default options enforces. */
export const DEFAULT_MAX_VALUE_BYTES: number = indexOptionsSchema.parse({}).maxValueBytes;

/**
 * Throws the `ValidationError` `index.set(key, value)` would, without an
 * index: for a tool that checks its input before it opens (or creates)
 * anything, so a bad argument writes nothing. The checks are the writer's
 * own: a string or Uint8Array key, not empty, at most 65,535 UTF-8 bytes, a
 * string or Uint8Array value within `maxValueBytes`, strings well-formed
 * UTF-16.
 */
export function validatePut(key: unknown, value: unknown, maxValueBytes: number = DEFAULT_MAX_VALUE_BYTES): void {
  preparePut(key, value, maxValueBytes);
}

/** Throws the `ValidationError` `index.delete(key)` would, without an index. */
export function validateDelete(key: unknown): void {
  prepareDelete(key);
}
