import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { SegmentInput } from './segment-builder.js';
import type { AccessMode } from './segment-options.js';
import { SegmentReader } from './segment-reader.js';
import { buildFile } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';

/**
 * A segment used on its own, outside an index: the features that come from
 * Whoosh's hash file (multi-value keys, getAll, closestKey) and keyvi's
 * GetNear (near), and the README's example of them.
 */

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const SECTION = '## Using a segment on its own';

/** The first ```ts block of the README's section on using a segment on its own. */
function readmeExample(): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.indexOf(`\n${SECTION}\n`);
  assert.ok(section >= 0, `README.md has a section "${SECTION}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  assert.ok(block !== null, `the section "${SECTION}" has a ts example`);
  return block[1]!;
}

/** The example as a module this process can import: types stripped, `@silt/segments…` imports resolved to this build. */
function runnable(example: string): string {
  const javascript = ts.transpileModule(example, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return javascript.replace(
    /(from\s*)'(@silt\/segments(?:\/[a-z]+)?)'/g,
    (_, from: string, specifier: string) => `${from}'${import.meta.resolve(specifier)}'`,
  );
}

test("the README's example of using a segment on its own runs as written", async () => {
  const dir = tempDir('segments-readme');
  const cwd = process.cwd();
  try {
    writeFileSync(join(dir, 'example.mjs'), runnable(readmeExample()));
    // The example names its file relative to where it runs, as a user's script would.
    process.chdir(dir);
    await import(pathToFileURL(join(dir, 'example.mjs')).href);
    assert.ok(existsSync(join(dir, 'glossary.seg')), 'the example built its segment');
  } finally {
    process.chdir(cwd);
  }
});

const dir = tempDir('standalone');

const senses: SegmentInput[] = [
  { kind: 'put', key: 'band', value: 'a group of musicians' },
  { kind: 'put', key: 'band', value: 'a strip of material' },
  { kind: 'put', key: 'band', value: Uint8Array.of(7) },
  { kind: 'put', key: 'bandana', value: 'a large handkerchief' },
  { kind: 'put', key: 'bandit', value: 'a robber' },
  { kind: 'put', key: 'banner', value: 'a long flag' },
];

const keysOf = (pairs: Iterable<[string, unknown]>): string[] => [...pairs].map(([key]) => key);

for (const access of ['memory', 'mmap', 'file'] as const satisfies readonly AccessMode[]) {
  const open = async (inputs: SegmentInput[], multiValue: boolean): Promise<SegmentReader> =>
    SegmentReader.open(await buildFile(dir, inputs, { multiValue, blockSize: 64 }), { access, cacheBytes: 1024 });

  test(`a multi-value segment keeps every value of a key, in the order given, in every read (${access})`, async () => {
    using glossary = await open(senses, true);
    assert.equal(glossary.get('band'), 'a group of musicians', 'get: the first value');
    assert.equal(glossary.has('band'), true);
    assert.deepEqual(glossary.lookup('band'), { kind: 'put', value: 'a group of musicians' });
    assert.deepEqual(
      [...glossary.range({ prefix: 'band', limit: 3 })],
      [
        ['band', 'a group of musicians'],
        ['band', 'a strip of material'],
        ['band', Uint8Array.of(7)],
      ],
    );
    assert.deepEqual(keysOf(glossary.range({ reverse: true })), ['banner', 'bandit', 'bandana', 'band', 'band', 'band']);
    const { multiValue, entries, distinctKeys } = glossary.stats();
    assert.deepEqual({ multiValue, entries, distinctKeys }, { multiValue: true, entries: 6, distinctKeys: 4 });
  });

  test(`getAll returns every value under a key in the order given, and nothing for an absent key or a tombstone (${access})`, async () => {
    using glossary = await open(senses, true);
    assert.deepEqual(glossary.getAll('band'), ['a group of musicians', 'a strip of material', Uint8Array.of(7)]);
    assert.deepEqual(glossary.getAll('bandit'), ['a robber']);
    assert.deepEqual(glossary.getAll('banjo'), []);
    using single = await open(
      [
        { kind: 'put', key: 'a', value: '1' },
        { kind: 'tombstone', key: 'b' },
      ],
      false,
    );
    assert.deepEqual(single.getAll('a'), ['1']);
    assert.deepEqual(single.getAll('b'), []);
  });

  test(`closestKey is the first put key at or after a key, past tombstones and repeated keys (${access})`, async () => {
    using glossary = await open(senses, true);
    assert.equal(glossary.closestKey('band'), 'band');
    assert.equal(glossary.closestKey('banda'), 'bandana');
    assert.equal(glossary.closestKey('bane'), 'banner');
    assert.equal(glossary.closestKey('bar'), undefined);
    using single = await open(
      [
        { kind: 'put', key: 'a', value: '1' },
        { kind: 'tombstone', key: 'b' },
        { kind: 'put', key: 'c', value: '3' },
      ],
      false,
    );
    assert.equal(single.closestKey('b'), 'c', 'a tombstone is not a key to find');
  });

  test(`near returns the puts sharing the longest prefix with a query, each value of a repeated key included (${access})`, async () => {
    using glossary = await open(senses, true);
    assert.deepEqual(keysOf(glossary.near('bandwidth')), ['band', 'band', 'band', 'bandana', 'bandit']);
    assert.deepEqual(keysOf(glossary.near('banjo')), ['band', 'band', 'band', 'bandana', 'bandit', 'banner']);
    assert.deepEqual(keysOf(glossary.near('banjo', { minPrefix: 4 })), []);
    assert.deepEqual(keysOf(glossary.near('bandits', { greedy: true, limit: 4 })), ['bandit', 'band', 'band', 'band']);
  });
}
