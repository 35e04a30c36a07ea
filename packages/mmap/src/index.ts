import { closeSync, fstatSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The addon's one call (native/mmap.c). */
interface MmapBinding {
  map(fd: number, length: number): ArrayBuffer;
}

/** Whether this install can map files, and if not, why (the addon did not build or load). */
export type MmapSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

let loaded: MmapBinding | Error | undefined;

function binding(): MmapBinding | Error {
  if (loaded !== undefined) return loaded;
  try {
    // Built by node-gyp at install (or by the workspace build) beside dist/.
    loaded = createRequire(import.meta.url)('../build/Release/silt_mmap.node') as MmapBinding;
  } catch (error) {
    loaded = error instanceof Error ? error : new Error(String(error));
  }
  return loaded;
}

function describeFailure(error: Error): string {
  const firstLine = error.message.split('\n')[0];
  return `the @silt/mmap addon did not load (${firstLine}); \`npm rebuild @silt/mmap\` builds it, with python3, make and a C compiler`;
}

export function mmapSupport(): MmapSupport {
  const found = binding();
  return found instanceof Error ? { available: false, reason: describeFailure(found) } : { available: true };
}

/** The error a call makes when the addon is missing: an errno-style error, as node:fs's own are. */
export class MmapUnavailableError extends Error {
  readonly code = 'ENOSYS';
  constructor(reason: string) {
    super(`mmap is not available: ${reason}`);
    this.name = 'MmapUnavailableError';
  }
}

/**
 * The whole file at `path`, mapped read-only and shared (MAP_SHARED,
 * PROT_READ): its pages are the OS page cache's, so every process that maps
 * the same file shares one copy. The mapping lives as long as the returned
 * bytes (and every view of them) are reachable, and is released when the
 * garbage collector takes them; a file removed meanwhile keeps its inode
 * (and disk space) until then. Do not map a file that may shrink: touching
 * a page past its new end raises SIGBUS, which kills the process.
 *
 * Throws node:fs's errno errors (ENOENT, EACCES, ...), the addon's (with
 * `code`, e.g. ENOMEM), or MmapUnavailableError.
 */
export function mapFileReadOnly(path: string): Buffer {
  const found = binding();
  if (found instanceof Error) throw new MmapUnavailableError(describeFailure(found));
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    // mmap(2) refuses a length of 0.
    if (size === 0) return Buffer.alloc(0);
    return Buffer.from(found.map(fd, size));
  } finally {
    // The mapping holds its own reference to the file.
    closeSync(fd);
  }
}
