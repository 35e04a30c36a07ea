import { FAULT_OPERATIONS, FaultInjectingFileSystem, type FaultOperation, type FileSystem } from '@silt/fs';

/** Calls that change or sync something; reads are not steps. */
const STEP_OPERATIONS = new Set<FaultOperation>(FAULT_OPERATIONS.filter((operation) => operation !== 'read'));

/**
 * The real file system, counting every call that changes or syncs
 * something (an open for writing, write, truncate, fsync, fdatasync,
 * directory fsync, rename, unlink, mkdir): the I/O steps of a workload.
 * With `killAt`, the process SIGKILLs itself just before step `killAt`
 * (after telling `announce`), so a test can kill a writer between any two
 * steps: after a segment's bytes but before its fsync, after the fsync but
 * before the directory's, between the manifest commit and the log deletion.
 */
export function stepCountingFileSystem(
  inner: FileSystem,
  killAt: number | undefined,
  announce: (step: number, what: string, path: string) => void,
): { readonly fs: FileSystem; steps(): number } {
  let steps = 0;
  const fs = new FaultInjectingFileSystem(inner, [], (operation, path, mode) => {
    if (!STEP_OPERATIONS.has(operation) || mode === 'read') return;
    steps++;
    if (steps !== killAt) return;
    announce(steps, mode === undefined ? operation : `${operation}-${mode}`, path);
    process.kill(process.pid, 'SIGKILL');
  });
  return { fs, steps: () => steps };
}
