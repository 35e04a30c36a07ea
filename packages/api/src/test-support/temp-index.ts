import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after } from 'node:test';

/** A fresh directory for an index, removed when the test file finishes. */
export function tempIndexDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `silt-index-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'idx');
}
