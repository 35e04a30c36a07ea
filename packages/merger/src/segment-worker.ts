import { nodeFileSystem } from '@silt/fs';
import { ScratchArena } from '@silt/fs/internal';
import { buildSegmentFromLog, type FlushRequest, type FlushResult } from './flush-build.js';
import { mergeSegments, type MergeRequest, type MergeResult } from './segment-merge.js';
import { settle, type TaskOutcome } from './task-outcome.js';

/**
 * The flush thread's memory for the log files it reads (see ScratchArena):
 * kept from flush to flush, about one flush's log bytes, so a flush does
 * not pay a page fault per 4 KiB of them again.
 */
const flushArena = new ScratchArena();

/**
 * The piscina worker module. Each export is a task the pool runs by name.
 * Workers always use the real file system: a test's simulated one lives in
 * the main thread, and the pool then runs tasks in-process instead. Tasks
 * return their errors as data (see task-outcome.ts) so they keep their class.
 */
export function flush(request: FlushRequest): Promise<TaskOutcome<FlushResult>> {
  return settle(() => buildSegmentFromLog(nodeFileSystem, request, flushArena));
}

/** Cancellation is piscina's: an aborted merge's thread is terminated, and the pool removes the partial output. */
export function merge(request: MergeRequest): Promise<TaskOutcome<MergeResult>> {
  return settle(() => mergeSegments(nodeFileSystem, request));
}
