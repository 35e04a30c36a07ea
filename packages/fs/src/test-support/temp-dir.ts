import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after } from 'node:test';

/** A fresh directory removed when the test file finishes. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `silt-fs-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
