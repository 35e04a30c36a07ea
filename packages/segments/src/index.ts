export { SegmentBuilder, buildSegment, buildPathOf } from './segment-builder.js';
export type { SegmentInput, SegmentBuildResult } from './segment-builder.js';
export { SegmentReader } from './segment-reader.js';
export type { SegmentEntry, SegmentStats, LookupResult } from './segment-reader.js';
export type { RangeOptions } from './range-options.js';
export type { NearOptions } from './near.js';
export type { Key, Value } from './key-bytes.js';
export {
  segmentBuilderOptionsSchema,
  segmentReaderOptionsSchema,
  segmentBytesOptionsSchema,
  fileSystemSchema,
  DEFAULT_CACHE_BYTES,
} from './segment-options.js';
export type { SegmentBuilderOptions, SegmentReaderOptions, SegmentBytesOptions, AccessMode, KeyEncoding } from './segment-options.js';
export { UnsupportedVersionError, KeyOrderError, describeKey } from './segment-errors.js';
export { FORMAT_VERSION, MAX_KEY_BYTES, MAX_VALUE_BYTES, DEFAULT_BLOCK_SIZE, MIN_BLOCK_SIZE, MAX_BLOCK_SIZE } from './format.js';
export { Manifest, manifestOptionsSchema, DEFAULT_BUSY_TIMEOUT_MS } from './manifest.js';
export type { ManifestCheckpoint, ManifestOptions, ManifestRole } from './manifest.js';
export { MANIFEST_FILE, MANIFEST_FORMAT_VERSION, MANIFEST_APPLICATION_ID, segmentFileName, segmentIdOfFileName, newSegmentSchema, manifestChangeSchema } from './manifest-schema.js';
export type { SegmentRecord, NewSegment, Generation, Lease, ManifestChange } from './manifest-schema.js';
export { StaleCommitError, ManifestVersionError, ManifestNotFoundError, GenerationNotFoundError } from './manifest-errors.js';
export { IndexDamagedError, filesNewerThanManifest, type DamageSite } from './index-damaged-error.js';
export { WriterLock, LockError, WRITER_LOCK_FILE, WRITER_PID_FILE } from './writer-lock.js';
export type { WriterLockOptions } from './writer-lock.js';
export { isProcessAlive } from './lease-liveness.js';
export { compareBytes, commonPrefixLength, describeType, keyToBytes, checkKeyLength } from './key-bytes.js';
export { checkWellFormed } from './key-bytes.js';
export { toScanRange, limitOption, booleanOption, checkOneBoundEachSide } from './range-options.js';
export type { Bound, ScanRange } from './range-options.js';
export { nearOptions } from './near.js';
export { NewestWinsMerge } from './newest-wins-merge.js';
export { hashKeyBytes, finishHash, FNV_OFFSET_BASIS, FNV_PRIME } from './key-hash.js';
export { parseWithSchema } from './schema-validation.js';
