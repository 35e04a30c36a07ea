// `@silt/fs/internal`: helpers silt's own packages share. Not public API, and
// no semver promise: a name here may change or go in any release (README,
// "Internal entry point").
export { temporaryPathFor, TEMP_SUFFIX } from './durable.js';
export { errnoOf, isNotFound } from './errors.js';
export { attempt, asIoError } from './io-step.js';
export { SeededRandom } from './seeded-random.js';
export { ScratchArena } from './scratch-arena.js';
export { crc32 } from './checksum.js';
export { nativeEntryMerge, type NativeEntryMerge, type MergeEntries, type MergeStateLayout, type MergeStatuses } from './file-mapping.js';
