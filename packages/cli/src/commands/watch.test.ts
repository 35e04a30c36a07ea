import { test } from 'node:test';
import { join } from 'node:path';
import { Index } from 'silt';
import type { WatchEvent } from './watch.js';
import { startSilt, workDirectory } from '../test-support/silt-process.js';
import assert from 'node:assert/strict';

test('watch prints a line per refresh, with the segments a flush added and the watched key, until Ctrl-C (exit 130)', async () => {
  const dir = join(workDirectory('watch'), 'idx');
  const index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1 });
  try {
    await index.set('greeting', 'hello');
    await index.flush();
    const watch = startSilt(['watch', dir, '--key', 'greeting']);
    await watch.waitForOutput(/watching: generation \d+, 1 segment, .*greeting=hello/);
    await index.set('greeting', 'world');
    await index.flush();
    await watch.waitForOutput(/generation \d+ {2}\+\d+ \(\d+ B, 1 entry\) {2}→ 2 segments, .* {2}greeting=world\n/);
    watch.child.kill('SIGINT');
    const result = await watch.result;
    assert.equal(result.code, 130, result.stderr);
  } finally {
    await index.close();
  }
});

test('watch --count n --json prints JSON Lines and exits 0 after n refreshes; a merge shows as segments removed', async () => {
  const dir = join(workDirectory('watch-json'), 'idx');
  const index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1, autoMerge: false });
  try {
    for (const key of ['a', 'b']) {
      await index.set(key, key);
      await index.flush();
    }
    const before = index.stats().segments.map((segment) => segment.id);
    const watch = startSilt(['watch', dir, '--count', '1', '--json']);
    await watch.waitForOutput(/"event":"watching"/);
    await index.forceMerge(1);
    const result = await watch.result;
    assert.equal(result.code, 0, result.stderr);
    const [start, refresh] = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as WatchEvent);
    assert.equal(start!.segments, 2);
    assert.equal(refresh!.event, 'refresh');
    assert.equal(refresh!.generation, index.stats().generation);
    assert.deepEqual(refresh!.removed, before);
    assert.equal(refresh!.added.length, 1);
    assert.equal(refresh!.segments, 1);
  } finally {
    await index.close();
  }
});
