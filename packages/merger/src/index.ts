export { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';
export { SegmentWorkerPool, type SegmentWorkerPoolOptions } from './segment-worker-pool.js';
export {
  mergeSegments,
  checkMergeRequest,
  MergeAbortedError,
  type MergeInput,
  type MergeRequest,
  type MergeResult,
  type MergedSegment,
  type EmptyMerge,
  type MergeFigures,
  type MergeOptions,
} from './segment-merge.js';
export { defaultMergeThreads, type MergeTaskOptions } from './segment-worker-pool.js';
export {
  pickMerges,
  planForceMerge,
  validateMergePolicyOptions,
  mergePolicyOptionsSchema,
  segmentCountTarget,
  DEFAULT_MERGE_POLICY,
  type SegmentSummary,
  type MergePolicyOptions,
  type MergeRun,
  type MergeReason,
} from './merge-policy.js';
export {
  simulateMerges,
  DEFAULT_MERGE_SIMULATION,
  type MergeSimulationOptions,
  type MergeSimulationResult,
  type MergeSimulationSummary,
  type SimulatedMerge,
  type SegmentCountSample,
} from './merge-simulation.js';
export { renderSimulationSvg } from './merge-simulation-chart.js';
