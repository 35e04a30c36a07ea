import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The segment file is a product on its own (`@silt/segments/file`): it must
 * load without the catalog half (manifest, leases, writer lock) and without
 * SQLite. This walks the compiled modules `file/index.js` reaches and checks
 * where each import leads.
 */

const fileDir = dirname(fileURLToPath(import.meta.url));
const packageDist = dirname(fileDir);
/** Folders of this package the file half may load: its own, and the helpers both halves share. */
const allowedFolders = ['file', 'shared'];
/** Packages the file half may load; better-sqlite3 belongs to the catalog. */
const allowedPackages = ['@silt/fs', '@silt/fs/internal', 'zod'];

const IMPORT_SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"]([^'"]+)['"]/gm;

function specifiersOf(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(IMPORT_SPECIFIER)].map((match) => (match[1] ?? match[2])!);
}

/** Every module the entry point loads, transitively, with the bare packages each one names. */
function closureOf(entry: string): { modules: string[]; packages: Map<string, string> } {
  const modules = new Set<string>([entry]);
  const packages = new Map<string, string>();
  for (const module of modules) {
    for (const specifier of specifiersOf(module)) {
      if (specifier.startsWith('.')) modules.add(join(dirname(module), specifier));
      else if (!specifier.startsWith('node:')) packages.set(specifier, relative(packageDist, module));
    }
  }
  return { modules: [...modules], packages };
}

test('the segment file half loads nothing of the catalog half, and not SQLite', () => {
  const { modules, packages } = closureOf(join(fileDir, 'index.js'));
  assert.ok(modules.length > 20, `the walk found the file half's modules (${modules.length})`);
  const outside = modules
    .map((module) => relative(packageDist, module))
    .filter((module) => !allowedFolders.includes(module.split(sep)[0]!));
  assert.deepEqual(outside, [], 'modules outside file/ and shared/ reached from file/index.js');
  const foreign = [...packages].filter(([name]) => !allowedPackages.includes(name)).map(([name, by]) => `${name} (imported by ${by})`);
  assert.deepEqual(foreign, [], 'packages other than @silt/fs and zod reached from file/index.js');
});
