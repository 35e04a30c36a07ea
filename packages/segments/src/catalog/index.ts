// The catalog of an index directory: the manifest (which segment files make
// each generation), reader leases and their liveness, the writer lock, and
// the collector that deletes segment files no generation in use needs.
// MANIFEST.md beside this file.
export { Manifest, manifestOptionsSchema, DEFAULT_BUSY_TIMEOUT_MS } from './manifest.js';
export type { ManifestCheckpoint, ManifestOptions, ManifestRole } from './manifest.js';
export { MANIFEST_FORMAT_VERSION, MANIFEST_APPLICATION_ID } from './manifest-schema.js';
export type { SegmentRecord, NewSegment, Generation, Lease, ManifestChange } from './manifest-schema.js';
export { StaleCommitError, ManifestVersionError, ManifestNotFoundError, GenerationNotFoundError } from './manifest-errors.js';
export { IndexDamagedError, type DamageSite } from './index-damaged-error.js';
export { WriterLock, LockError } from './writer-lock.js';
export type { WriterLockOptions } from './writer-lock.js';
export { isProcessAlive } from './lease-liveness.js';
export { collectSegments, type CollectResult, type SegmentLocation } from './segment-collector.js';
