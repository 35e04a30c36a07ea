import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A fresh, empty directory under the OS temp directory, named
 * `silt-<label>-XXXXXX`, removed with everything in it when the test that
 * made it ends (node:test's `after` attaches to the running test, else to
 * the test file, so at the latest when the file's tests are done).
 */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `silt-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
