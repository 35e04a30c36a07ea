import { createRequire } from 'node:module';

/** What @silt/fs uses of @silt/mmap, an optional dependency: an install without a C compiler lacks it. */
interface MmapModule {
  mapFileReadOnly(path: string): Buffer;
  mmapSupport(): { readonly available: true } | { readonly available: false; readonly reason: string };
}

/** Whether this process can map files (`FileSystem.mapFile`), and if not, why. */
export type FileMappingSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

let mmap: MmapModule | Error | undefined;

function mmapModule(): MmapModule | Error {
  if (mmap !== undefined) return mmap;
  try {
    // Loaded on first use, synchronously, and only if installed: @silt/fs must load without it.
    mmap = createRequire(import.meta.url)('@silt/mmap') as MmapModule;
  } catch (error) {
    mmap = error instanceof Error ? error : new Error(String(error));
  }
  return mmap;
}

export function fileMappingSupport(): FileMappingSupport {
  const found = mmapModule();
  if (found instanceof Error) return { available: false, reason: `@silt/mmap is not installed (${found.message.split('\n')[0]})` };
  return found.mmapSupport();
}

/** The file mapped read-only and shared (see `FileSystem.mapFile`), or undefined where this process cannot map files. */
export function mapFileIfSupported(path: string): Uint8Array | undefined {
  const found = mmapModule();
  if (found instanceof Error || !found.mmapSupport().available) return undefined;
  return found.mapFileReadOnly(path);
}
