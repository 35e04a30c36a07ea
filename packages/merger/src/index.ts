export { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';
export { SegmentWorkerPool, type SegmentWorkerPoolOptions } from './segment-worker-pool.js';
