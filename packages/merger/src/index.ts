export { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';
export { SegmentWorkerPool, type SegmentWorkerPoolOptions } from './segment-worker-pool.js';
export {
  mergeSegments,
  MergeAbortedError,
  type MergeInput,
  type MergeRequest,
  type MergeResult,
  type MergedSegment,
  type EmptyMerge,
  type MergeFigures,
  type MergeOptions,
} from './segment-merge.js';
export type { MergePause } from './merge-pause.js';
export type { MergeTaskOptions } from './segment-worker-pool.js';
export {
  checkMergeRuns,
  type MergePolicy,
  type MergeContext,
  type ForceMergeContext,
  type SegmentSummary,
  type MergeRun,
  type MergeReason,
} from './merge-policy.js';
export {
  TieredMergePolicy,
  validateMergePolicyOptions,
  mergePolicyOptionsSchema,
  DEFAULT_MERGE_POLICY,
  type MergePolicyOptions,
} from './tiered-merge-policy.js';
