import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { consumerProjectForTests, describeFailure, runNode, runTsc, scratchDirectory, writeFiles } from './project-for-tests.js';
import { publishedPackages } from './workspace.js';

// The consumers a user writes against the installed tarballs: each loads
// every entry point every package exports, then opens an index, sets and
// gets a key, and closes it, in its own process.

const project = consumerProjectForTests();
const specifiers = publishedPackages().flatMap((p) => p.specifiers);

/** The work every consumer does once its modules are loaded (with `directory` set), in JavaScript that TypeScript accepts too. */
const USE_AN_INDEX = `
  const index = await Index.open(join(directory, 'idx'), { durability: 'write' });
  await index.set('a', '42');
  await index.mset([['b', 'two'], ['c', new Uint8Array([1, 2])]]);
  if (index.get('a') !== '42') throw new Error('get returned ' + String(index.get('a')));
  await index.close();
  const reader = await ReadOnlyIndex.open(join(directory, 'idx'));
  const keys = [...reader.range({ gte: 'a' })].map(([key]) => key).join(',');
  await reader.close();
  if (keys !== 'a,b,c') throw new Error('range returned ' + keys);
  try {
    await Index.open(join(directory, 'idx'), JSON.parse('{ "durability": "sometimes" }'));
    throw new Error('a bad option was accepted');
  } catch (error) {
    if (!(error instanceof ValidationError && error instanceof SiltError)) throw error;
  }
  console.log('ok');
`;

test('a CommonJS consumer requires every entry point of every package, and uses an index', () => {
  const { directory } = project();
  writeFiles(directory, {
    'consumers/require.cjs': `'use strict';
const { join } = require('node:path');
for (const specifier of ${JSON.stringify(specifiers)}) {
  if (Object.keys(require(specifier)).length === 0) throw new Error(specifier + ' exports nothing');
}
const { Index, ReadOnlyIndex, SiltError, ValidationError } = require('silt');
const directory = process.argv[2];
(async () => {${USE_AN_INDEX}})();
`,
  });
  const outcome = runNode([join(directory, 'consumers', 'require.cjs'), scratchDirectory(project(), 'cjs')], directory);
  assert.equal(outcome.status, 0, describeFailure('require.cjs', outcome));
  assert.equal(outcome.stdout, 'ok\n');
});

test('an ES module consumer imports every entry point, gets the same module instances require() gets, and uses an index', () => {
  const { directory } = project();
  writeFiles(directory, {
    'consumers/import.mjs': `import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Index, ReadOnlyIndex, SiltError, ValidationError } from 'silt';
const require = createRequire(import.meta.url);
for (const specifier of ${JSON.stringify(specifiers)}) {
  const imported = await import(specifier);
  if (Object.keys(imported).length === 0) throw new Error(specifier + ' exports nothing');
  // One module instance whichever way it is loaded: instanceof holds across both (no dual-package hazard).
  if (require(specifier) !== imported) throw new Error(specifier + ': require() and import gave different modules');
}
const directory = process.argv[2];
${USE_AN_INDEX}`,
  });
  const outcome = runNode([join(directory, 'consumers', 'import.mjs'), scratchDirectory(project(), 'esm')], directory);
  assert.equal(outcome.status, 0, describeFailure('import.mjs', outcome));
  assert.equal(outcome.stdout, 'ok\n');
});

/** Strict compiler options, and the library types checked too: what a careful consumer compiles with. */
const STRICT = {
  strict: true,
  skipLibCheck: false,
  target: 'ES2022',
  types: ['node'],
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
};

/** A typed consumer: every entry point's types are loaded (so checked), and the index calls are typed. */
function typedConsumer(run: (use: string) => string): string {
  const imports = specifiers.map((specifier, i) => `import * as module${i} from '${specifier}';`).join('\n');
  return `import { join } from 'node:path';
import { Index, ReadOnlyIndex, SiltError, ValidationError, type IndexOptions, type Value } from 'silt';
${imports}
export const modules: readonly object[] = [${specifiers.map((_, i) => `module${i}`).join(', ')}];
export const options: IndexOptions = { durability: 'fsync', refreshIntervalMs: 1000 };
export function firstValue(index: Index | ReadOnlyIndex): Value | undefined {
  return index.get('a');
}
const directory: string = process.argv[2] ?? '.';
${run(USE_AN_INDEX)}
`;
}

test('a strict TypeScript consumer (module nodenext, skipLibCheck false) compiles as ES module and as CommonJS, and runs', () => {
  const { directory } = project();
  const tsDirectory = join(directory, 'ts-nodenext');
  writeFiles(tsDirectory, {
    'tsconfig.json': JSON.stringify({
      compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out', rootDir: '.' },
      files: ['esm.mts', 'cjs.cts'],
    }),
    'esm.mts': typedConsumer((use) => use),
    'cjs.cts': typedConsumer(
      (use) => `void (async () => {${use}})().catch((error: unknown) => {\n  console.error(error);\n  process.exitCode = 1;\n});`,
    ),
  });
  const compiled = runTsc(tsDirectory);
  assert.equal(compiled.status, 0, describeFailure('tsc (nodenext)', compiled));
  for (const output of ['esm.mjs', 'cjs.cjs']) {
    const outcome = runNode([join(tsDirectory, 'out', output), scratchDirectory(project(), 'ts')], directory);
    assert.equal(outcome.status, 0, describeFailure(output, outcome));
    assert.equal(outcome.stdout, 'ok\n', output);
  }
});

test('a strict TypeScript consumer with moduleResolution bundler type-checks', () => {
  const { directory } = project();
  const tsDirectory = join(directory, 'ts-bundler');
  writeFiles(tsDirectory, {
    'tsconfig.json': JSON.stringify({
      compilerOptions: { ...STRICT, module: 'preserve', moduleResolution: 'bundler', noEmit: true },
      files: ['consumer.ts'],
    }),
    'consumer.ts': typedConsumer((use) => use),
  });
  const compiled = runTsc(tsDirectory);
  assert.equal(compiled.status, 0, describeFailure('tsc (bundler)', compiled));
});

test('@silt/mmap builds from its tarball, and an index opened in mmap mode maps its segments', () => {
  const { directory } = project();
  writeFiles(directory, {
    'consumers/mmap.mjs': `import { join } from 'node:path';
import { fileMappingSupport } from '@silt/fs';
import { Index, ReadOnlyIndex } from 'silt';
const support = fileMappingSupport();
if (!support.available) throw new Error('cannot map files: ' + support.reason);
const directory = join(process.argv[2], 'idx');
const index = await Index.open(directory, { accessMode: 'mmap' });
await index.set('a', '42');
await index.flush();
await index.close();
const reader = await ReadOnlyIndex.open(directory, { accessMode: 'mmap' });
const value = reader.get('a');
const access = reader.stats().accessMode;
await reader.close();
if (value !== '42' || access !== 'mmap') throw new Error('read ' + String(value) + ' from segments opened as ' + access);
console.log('ok');
`,
  });
  const outcome = runNode([join(directory, 'consumers', 'mmap.mjs'), scratchDirectory(project(), 'mmap')], directory);
  assert.equal(outcome.status, 0, describeFailure('mmap.mjs', outcome));
  assert.equal(outcome.stdout, 'ok\n');
});
