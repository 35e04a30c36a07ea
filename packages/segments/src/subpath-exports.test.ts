import { test } from 'node:test';
import assert from 'node:assert/strict';

/** What a module namespace exports, by name. */
async function exportsOf(specifier: string): Promise<string[]> {
  const namespace = (await import(specifier)) as Record<string, unknown>;
  return Object.keys(namespace);
}

test('@silt/segments/file and @silt/segments/catalog each give one half, and @silt/segments gives both', async () => {
  const file = await exportsOf('@silt/segments/file');
  const catalog = await exportsOf('@silt/segments/catalog');
  const root = await exportsOf('@silt/segments');
  for (const name of ['SegmentBuilder', 'SegmentReader', 'buildSegment', 'buildPathOf', 'KeyOrderError'])
    assert.ok(file.includes(name), `file exports ${name}`);
  for (const name of ['Manifest', 'WriterLock', 'collectSegments', 'isProcessAlive', 'IndexDamagedError'])
    assert.ok(catalog.includes(name), `catalog exports ${name}`);
  assert.deepEqual(
    file.filter((name) => catalog.includes(name)),
    [],
    'no name is in both halves',
  );
  assert.deepEqual(
    [...file, ...catalog].filter((name) => !root.includes(name)),
    [],
    'the root exports every name of both halves',
  );
});
