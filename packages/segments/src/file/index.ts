// The segment file: an immutable sorted table with a hash index and a block
// index (FORMAT.md beside this file). Nothing here knows of the manifest,
// leases or the writer lock; `file-stands-alone.test.ts` holds that line.
export { SegmentBuilder, buildSegment, buildPathOf } from './segment-builder.js';
export type { SegmentInput, SegmentBuildResult } from './segment-builder.js';
export { SegmentReader } from './segment-reader.js';
export type { SegmentEntry, SegmentStats, LookupResult, EncodedEntry } from './segment-reader.js';
export type { EncodedCursor } from './encoded-cursor.js';
export type { EncodedRuns } from './encoded-runs.js';
export type { RangeOptions } from './range-options.js';
export type { NearOptions, ResolvedNearOptions } from './near.js';
export type { Key, Value, StringKeyRule } from './key-bytes.js';
export {
  segmentBuilderOptionsSchema,
  segmentReaderOptionsSchema,
  segmentBytesOptionsSchema,
  DEFAULT_CACHE_BYTES,
} from './segment-options.js';
export type { SegmentBuilderOptions, SegmentReaderOptions, SegmentBytesOptions, AccessMode, KeyEncoding } from './segment-options.js';
export { UnsupportedVersionError, KeyOrderError, ScanOnlyError } from './segment-errors.js';
export {
  FORMAT_VERSION,
  MAX_KEY_BYTES,
  MAX_DISTINCT_KEYS,
  SEGMENT_MAX_VALUE_BYTES,
  DEFAULT_BLOCK_SIZE,
  MIN_BLOCK_SIZE,
  MAX_BLOCK_SIZE,
} from './format.js';
