import { closeSync, fstatSync, openSync } from 'node:fs';
import { describeFailure, loadAddon } from './addon.js';

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
  const found = loadAddon();
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
