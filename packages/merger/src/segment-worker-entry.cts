/**
 * The file piscina loads in each worker thread. It is CommonJS on purpose:
 * piscina loads a task file with require(), and for an ES module that goes
 * through Node 20's require(esm), which now and then aborted the whole
 * process (a v8 "IsGraphAsync ... instantiated module" fatal error, seen in
 * CI and reproduced about one run in four of index-writer.test.js). This
 * entry is plain CommonJS and loads the ES worker module with import(),
 * Node's own path for ES modules.
 */
type WorkerModule = typeof import('./segment-worker.js', { with: { 'resolution-mode': 'import' } });
type FlushTask = WorkerModule['flush'];
type MergeTask = WorkerModule['merge'];

let loaded: Promise<WorkerModule> | undefined;
const workerModule = (): Promise<WorkerModule> => (loaded ??= import('./segment-worker.js'));

function flush(request: Parameters<FlushTask>[0]): ReturnType<FlushTask> {
  return workerModule().then((tasks) => tasks.flush(request));
}

function merge(request: Parameters<MergeTask>[0]): ReturnType<MergeTask> {
  return workerModule().then((tasks) => tasks.merge(request));
}

export = { flush, merge };
