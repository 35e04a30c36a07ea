export { Index } from './index-handle.js';
export type { IndexEvents, BackpressureEvent } from './index-events.js';
export { MergeFailedError, type MergeEvent } from './merge-scheduler.js';
export { ReadOnlyIndex, readOnlyIndexOptionsSchema, type ReadOnlyIndexOptions, type ReadOnlyIndexEvents } from '@silt/reader';
export { indexOptionsSchema, type IndexOptions } from './index-options.js';
export type { RangeOptions, NearOptions, FuzzyOptions } from '@silt/reader';
export type { IndexStats, WriterIndexStats, ClientIndexStats, WriterStats, LiveSegmentStats } from './index-stats.js';
export type { IndexRoleName } from './index-role.js';
export { WriterChangedError, WriterRefusedError, ReadOnlyError, WriterUnreachableError } from './role-errors.js';
export { ProtocolError } from './writer-actor/protocol-error.js';
export { superviseIndex, superviseOptionsSchema, type SuperviseOptions, type ClosableIndex } from './supervised-index.js';
export type { FlushEvent } from './flusher.js';
export type { Key, Value, KeyEncoding, KeyOf, ValueCodec, ValueEncoding } from '@silt/reader';
export { ValueDecodeError, valueEncodingSchema } from '@silt/reader';
export { ChainedBatch } from './chained-batch.js';
export type { BatchOperation } from './batch-operations.js';
export { SiltError, ValidationError, CorruptionError, ClosedError, IoError, WriterFailedError } from '@silt/fs';
export { LockError, ManifestNotFoundError, IndexDamagedError } from '@silt/segments';
export type { IndexRecovery } from './recovery.js';
export {
  backup,
  backupOptionsSchema,
  BackupDestinationError,
  BackupLogMissingError,
  type BackupOptions,
  type BackupReport,
} from './backup.js';
export { repairIndex, type RepairOptions, type RepairReport } from './repair.js';
export type { LostRange, SetAside } from './repair-plan.js';
export { validatePut, validateDelete, DEFAULT_MAX_VALUE_BYTES } from './write-arguments.js';
export { verifyIndex, type VerifyOptions, type VerifyReport, type FileCheck } from './verify-index.js';
export {
  inspectIndex,
  type IndexInspection,
  type InspectedLogFile,
  type WriterRecord,
  type ReaderRecord,
  type SetAsideFiles,
} from './inspect-index.js';
export { inspectDirectory, type DirectoryInspection, type DirectoryKind, type InspectOptions } from './inspect-directory.js';
export type { RefreshChange, SegmentRecord } from '@silt/reader';
export { ChangesTooOldError, AbortError, changesOptionsSchema } from '@silt/reader';
export type { Change, PutChange, DeleteChange, ChangesOptions, ChangeSubscription } from '@silt/reader';
