import { nodeFileSystem } from '@silt/fs';
import { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';

/**
 * The piscina worker module. Each export is a task the pool runs by name.
 * Workers always use the real file system: a test's simulated one lives in
 * the main thread, and the pool then runs tasks in-process instead.
 */
export function flush(request: FlushRequest): Promise<FlushResult> {
  return buildSegmentFromLog(nodeFileSystem, request);
}
