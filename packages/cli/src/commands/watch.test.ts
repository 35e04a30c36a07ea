import { test } from 'node:test';
import { join } from 'node:path';
import { Index, type Key, type Value } from 'silt';
import type { WatchEvent } from './watch.js';
import type { ChangeLine } from './watch-changes.js';
import { parseJsonRecord } from '../support/records.js';
import { runSilt, startSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

test('watch prints a line per refresh, with the segments a flush added and the watched key, until Ctrl-C (exit 130)', async () => {
  const dir = join(tempDir('watch'), 'idx');
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
  const dir = join(tempDir('watch-json'), 'idx');
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

/** No timer flush: the change feed must show writes no flush has put in a segment. */
const QUIET = { refreshIntervalMs: 2 ** 31 - 1 } as const;

test('watch --changes --prefix prints each matching set and delete as it is acknowledged, without a flush, until Ctrl-C (exit 130)', async () => {
  const dir = join(tempDir('watch-changes'), 'idx');
  const index = await Index.open(dir, QUIET);
  try {
    await index.set('user:0', 'before the watch');
    const watch = startSilt(['watch', dir, '--changes', '--prefix', 'user:']);
    await watch.waitForStderr(/^following changes to .* after sequence 1; a line per change \(Ctrl-C stops\)$/m);
    await index.set('user:1', 'one');
    await index.set('order:1', 'not a user');
    await index.mset([
      ['user:2', 'two'],
      ['order:2', 'not a user either'],
    ]);
    await index.delete('user:1');
    await watch.waitForOutput(/\tdel\t/);
    watch.child.kill('SIGINT');
    const result = await watch.result;
    assert.equal(result.code, 130, result.stderr);
    assert.equal(result.stdout, '2\tset\tuser:1\tone\n4\tset\tuser:2\ttwo\n6\tdel\tuser:1\n');
    assert.match(result.stderr, /^stopped after sequence 6; resume with --since 6$/m);
  } finally {
    await index.close();
  }
});

test('watch --changes --json --count n prints n JSON Lines in the export encoding (binary keys and values round-trip) and exits 0', async () => {
  const dir = join(tempDir('watch-changes-json'), 'idx');
  const index = await Index.open(dir, { ...QUIET, keyEncoding: 'binary' });
  const binaryKey = Uint8Array.of(0xff, 0x00, 0x01);
  const textKey = new TextEncoder().encode('clé');
  try {
    await index.set(binaryKey, Uint8Array.of(0x00, 0xfe));
    await index.set(textKey, 'text value');
    await index.delete(binaryKey);
    await index.set('past the count', 'not printed');
    const result = await runSilt(['watch', dir, '--changes', '--json', '--since', '0', '--count', '3']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', '--json keeps standard error quiet');
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ChangeLine);
    assert.deepEqual(lines, [
      { sequence: 1, key: '/wAB', keyEncoding: 'base64', value: 'AP4=', valueEncoding: 'base64' },
      { sequence: 2, key: 'clé', value: 'text value' },
      { sequence: 3, key: '/wAB', keyEncoding: 'base64', deleted: true },
    ]);
    // A put line is an export record: silt import's own parser reads back the exact bytes and types.
    const pairs = result.stdout
      .trim()
      .split('\n')
      .slice(0, 2)
      .map((line) => parseJsonRecord(line, 1 << 20));
    assert.deepEqual(pairs, [
      [binaryKey, Uint8Array.of(0x00, 0xfe)],
      ['clé', 'text value'],
    ] satisfies Array<[Key, Value]>);
  } finally {
    await index.close();
  }
});

test('watch --changes --since resumes exactly where a stopped watch said it stopped', async () => {
  const dir = join(tempDir('watch-changes-since'), 'idx');
  const index = await Index.open(dir, QUIET);
  try {
    for (const key of ['a', 'b', 'c', 'd']) await index.set(key, key.toUpperCase());
    const first = await runSilt(['watch', dir, '--changes', '--since', '0', '--count', '2']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '1\tset\ta\tA\n2\tset\tb\tB\n');
    const since = /resume with --since (\d+)$/m.exec(first.stderr)?.[1];
    assert.equal(since, '2', first.stderr);
    const resumed = await runSilt(['watch', dir, '--changes', '--since', since, '--count', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, '3\tset\tc\tC\n4\tset\td\tD\n');
  } finally {
    await index.close();
  }
});

test('watch --changes --since older than the log exits 1 with one line saying to rescan', async () => {
  const dir = join(tempDir('watch-changes-too-old'), 'idx');
  const index = await Index.open(dir, { ...QUIET, walFileBytes: 4096 });
  try {
    // One record each, so the log rolls over to new files; the flush then deletes the full ones it covers.
    for (let i = 0; i < 100; i++) await index.set(`k${i}`, 'x'.repeat(100));
    await index.flush();
    const result = await runSilt(['watch', dir, '--changes', '--since', '1']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^silt watch: the changes after sequence 1 are no longer in the log \(it now starts at sequence \d+: a flush covered them\); rescan: .* watch .* --changes, then .* scan .*, and apply the changes on top\n$/,
    );
  } finally {
    await index.close();
  }
});

test('watch refuses bad change-feed arguments with exit 2 and one line, before following anything', async () => {
  const work = tempDir('watch-changes-usage');
  const dir = join(work, 'idx');
  const index = await Index.open(dir, QUIET);
  try {
    await index.set('a', '1');
    const cases: Array<[string[], RegExp]> = [
      [['--prefix', 'a'], /--prefix is for the change feed: add --changes/],
      [['--since', '0'], /--since is for the change feed: add --changes/],
      [['--changes', '--key', 'a'], /--key shows values at each refresh; with --changes every line carries its value/],
      [['--changes', '--since', 'soon'], /option '--since <sequence>' argument 'soon' is invalid\. expected a whole number at least 0\./],
      [['--changes', '--gte', 'a', '--gt', 'b'], /at most one of the range options gte and gt/],
      [['--changes', '--since', '99'], /since is 99, past the last acknowledged sequence number 1/],
    ];
    const [missing, ...results] = await Promise.all([
      runSilt(['watch', join(work, 'nothing'), '--changes']),
      ...cases.map(([args]) => runSilt(['watch', dir, ...args])),
    ]);
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    });
    assert.equal(missing!.code, 2, missing!.stderr);
    assert.match(missing!.stderr, /no silt index at .*nothing: the directory does not exist/);
  } finally {
    await index.close();
  }
});
