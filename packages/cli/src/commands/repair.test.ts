import { test } from 'node:test';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Index, type RepairReport } from 'silt';
import { snapshotDirectory } from '../test-support/directory-snapshot.js';
import { runSilt, workDirectory } from '../test-support/silt-process.js';
import assert from 'node:assert/strict';

/** Two flushed segments, then the manifest deleted: an index every command refuses until repaired. */
async function indexWithoutManifest(label: string): Promise<string> {
  const dir = join(workDirectory(label), 'idx');
  const index = await Index.open(dir, { autoMerge: false });
  try {
    for (let segment = 0; segment < 2; segment++) {
      await index.mset(Array.from({ length: 50 }, (_, i): [string, string] => [`key:${segment}:${i}`, `value ${i}`]));
      await index.flush();
    }
  } finally {
    await index.close();
  }
  // The manifest and SQLite's files beside it.
  for (const name of readdirSync(dir).filter((entry) => entry.startsWith('manifest.sqlite'))) rmSync(join(dir, name));
  return dir;
}

test('read and write commands on an index whose manifest was deleted exit 1 and point to silt repair; nothing changes', async () => {
  const dir = await indexWithoutManifest('repair-refused');
  const before = snapshotDirectory(dir);
  for (const args of [
    ['get', dir, 'key:0:1'],
    ['stats', dir],
    ['set', dir, 'k', 'v'],
  ]) {
    const result = await runSilt(args);
    assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`);
    assert.match(result.stderr, /manifest\.sqlite is missing.*\n?.*silt repair/s, args[0]);
  }
  assert.deepEqual(snapshotDirectory(dir), before);
});

test('silt repair --dry-run reports and writes nothing; silt repair rebuilds the index, exit 0, and every key reads back', async () => {
  const dir = await indexWithoutManifest('repair-cli');
  const before = snapshotDirectory(dir);
  const dry = await runSilt(['repair', dir, '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout) as RepairReport;
  assert.equal(planned.dryRun, true);
  assert.equal(planned.segments.length, 2);
  assert.deepEqual(snapshotDirectory(dir), before);

  const repaired = await runSilt(['repair', dir]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stdout, /recovered: every write up to sequence 100 of 100/);
  const value = await runSilt(['get', dir, 'key:1:49']);
  assert.equal(value.code, 0, value.stderr);
  assert.equal(value.stdout.trim(), 'value 49');
});
