import { createRequire } from 'node:module';
import type { MergeEntries } from './merge-entries.js';

/** The addon's calls (native/). */
export interface MmapAddon {
  /** map.c: maps `length` bytes of the open file `fd`, read-only and shared. */
  map(fd: number, length: number): ArrayBuffer;
  /** read-at.c: one `pread` of `target.length` bytes at `position`; the count read. */
  readAt(fd: number, target: Uint8Array, position: number): number;
  /** crc32.c: zlib's CRC-32 of `bytes`, folded with PCLMULQDQ; present only where the CPU has it. */
  crc32?(bytes: Uint8Array): number;
  /** merge.c: a stretch of a k-way merge of encoded segment entries (merge-entries.ts). */
  mergeEntries: MergeEntries;
}

/** Whether this install can map files, and if not, why (the addon did not build or load). */
export type MmapSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

let loaded: MmapAddon | Error | undefined;

/** The addon, loaded on first use, or the error that loading it raised. */
export function loadAddon(): MmapAddon | Error {
  if (loaded !== undefined) return loaded;
  try {
    // Built by node-gyp at install (or by the workspace build) beside dist/.
    loaded = createRequire(import.meta.url)('../build/Release/silt_mmap.node') as MmapAddon;
  } catch (error) {
    loaded = error instanceof Error ? error : new Error(String(error));
  }
  return loaded;
}

export function describeFailure(error: Error): string {
  const firstLine = error.message.split('\n')[0];
  return `the @silt/mmap addon did not load (${firstLine}); \`npm rebuild @silt/mmap\` builds it, with python3, make and a C compiler`;
}

export function mmapSupport(): MmapSupport {
  const found = loadAddon();
  return found instanceof Error ? { available: false, reason: describeFailure(found) } : { available: true };
}
