import { test } from 'node:test';
import { join } from 'node:path';
import { Index } from 'silt';
import type { CompactReport } from './compact.js';
import { listTree, runSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

test('compact merges down to --segments n, then to one, and every key reads back', async () => {
  const dir = join(tempDir('compact'), 'idx');
  // No flush timer: the five segments are exactly the five explicit flushes.
  const index = await Index.open(dir, { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 });
  try {
    for (let flush = 0; flush < 5; flush++) {
      await index.mset(Array.from({ length: 500 }, (_, i) => [`key:${flush}:${i}`, `value ${flush}.${i}`] as [string, string]));
      await index.flush();
    }
    assert.equal(index.stats().segments.length, 5);
  } finally {
    await index.close();
  }
  const two = await runSilt(['compact', dir, '--segments', '2', '--json']);
  assert.equal(two.code, 0, two.stderr);
  const report = JSON.parse(two.stdout) as CompactReport;
  assert.equal(report.before.segments, 5);
  assert.ok(report.after.segments <= 2 && report.merges >= 1, two.stdout);
  const one = await runSilt(['compact', dir]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^compacted .*: \d segments \(.*\) → 1 segment \(.*\) in \d merges?, /);
  const [keys, value] = await Promise.all([runSilt(['scan', dir, '--keys-only']), runSilt(['get', dir, 'key:3:499'])]);
  assert.equal(keys.stdout.trim().split('\n').length, 2500);
  assert.equal(value.stdout, 'value 3.499\n');
});

test('compact with bad arguments exits 2 and changes nothing', async () => {
  const dir = join(tempDir('compact-bad'), 'idx');
  assert.equal((await runSilt(['set', dir, 'k', 'v'])).code, 0);
  const before = listTree(dir);
  const [zero, words, missing] = await Promise.all([
    runSilt(['compact', dir, '--segments', '0']),
    runSilt(['compact', dir, '--segments', 'few']),
    runSilt(['compact', join(dir, 'nope')]),
  ]);
  for (const result of [zero, words]) {
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^silt compact: option '--segments <n>' argument '.*' is invalid\. expected a whole number at least 1\. \(see silt compact --help\)\n$/,
    );
  }
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no silt index at/);
  assert.deepEqual(listTree(dir), before);
});
