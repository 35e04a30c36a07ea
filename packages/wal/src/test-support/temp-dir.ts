import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir; `remove()` deletes it. */
export function makeTempDir(label: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `silt-wal-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs `body` with a fresh directory and removes it afterwards, whatever happens. */
export async function inTempDir<T>(label: string, body: (path: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(label);
  try {
    return await body(dir.path);
  } finally {
    dir.remove();
  }
}
