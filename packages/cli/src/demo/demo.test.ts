import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index } from 'silt';
import type { DemoSummary } from './summary.js';
import { isProcessAlive, listTree, runSilt, startSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

test('a small demo finishes, exits 0, explains itself and leaves an index that stats, get and verify read', async () => {
  const work = tempDir('demo');
  const result = await runSilt(['demo', '--keys', '20000', '--readers', '2'], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Done in .*\. The index is in silt-demo: 1 segment, /);
  assert.match(result.stdout, /What just happened/);
  // Each reader times each of the 20 batches' probe keys at most once; how many it saw before the demo stopped waiting (10 s)
  // depends on the machine's speed.
  const timed =
    /2 other processes .* tailing the write-ahead log.* a write was readable there p50 [\d.]+ m?s, p99 [\d.]+ m?s after the writer's mset resolved \(([\d,]+) samples?\)/s.exec(
      result.stdout,
    );
  assert.ok(timed !== null || /2 other processes .* no write was timed/s.test(result.stdout), result.stdout);
  assert.match(result.stdout, /They also wrote keys of their own \(client\/<pid>\/…\), forwarded over writer\.sock/);
  assert.ok(Number(timed?.[1] ?? 0) <= 40, result.stdout);
  assert.match(result.stdout, /stats silt-demo\n/);
  assert.match(
    result.stderr,
    /^silt demo: 20,000 keys into silt-demo, writer pid \d+, 2 reader processes \(pid \d+, \d+\)$/m,
    'plain progress lines when not a terminal',
  );
  assert.match(result.stderr, /\] done: 20,000\/20,000 keys \(100%\)/);
  const readerPids = /reader processes \(pid (\d+), (\d+)\)/.exec(result.stderr)!.slice(1).map(Number);
  assert.deepEqual(readerPids.filter(isProcessAlive), [], 'the readers are gone');

  // First alone: the others hold reader leases while they run.
  const stats = await runSilt(['stats', 'silt-demo', '--json', '--count'], { cwd: work });
  const [get, verify] = await Promise.all([
    runSilt(['get', 'silt-demo', 'user:0000042'], { cwd: work }),
    runSilt(['verify', 'silt-demo'], { cwd: work }),
  ]);
  const report = JSON.parse(stats.stdout) as { keys: number; segments: unknown[]; readers: unknown[] };
  assert.equal(report.keys - (await clientKeys(work, 'silt-demo')), 20_000, "the demo's keys, beside the clients' own");
  assert.equal(report.segments.length, 1);
  assert.deepEqual(report.readers, [], 'no reader lease is left behind');
  assert.deepEqual(JSON.parse(get.stdout) as unknown, { id: 42, name: 'user 42', plan: 'free', visits: 980 });
  assert.equal(verify.code, 0, verify.stdout);
});

test('demo refuses an existing index without --fresh, replaces it with --fresh, and never touches a directory of other files', async () => {
  const work = tempDir('demo-again');
  const dir = join(work, 'demo');
  const first = await runSilt(['demo', dir, '--keys', '3000', '--readers', '0', '--rate', '0']);
  assert.equal(first.code, 0, first.stderr);
  const before = listTree(dir);
  const again = await runSilt(['demo', dir, '--keys', '10']);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /already holds an index \(an earlier demo\?\); explore it with `.* stats .*`, or start over with `.* demo .* --fresh`/,
  );
  assert.deepEqual(listTree(dir), before);

  const fresh = await runSilt(['demo', dir, '--fresh', '--keys', '5000', '--readers', '1', '--json']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(fresh.stderr, '', '--json keeps standard error quiet');
  const summary = JSON.parse(fresh.stdout) as DemoSummary;
  assert.equal(summary.keys, 5000);
  assert.equal(summary.final.segments, 1);
  assert.equal(summary.readers.processes, 1);
  assert.ok(summary.readers.samples <= 5, 'one sample per batch at most, as many as the reader saw before the demo stopped waiting');
  assert.deepEqual(summary.readers.errors, []);

  const foreign = join(work, 'photos');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'cat.jpg'), 'meow');
  const refused = await runSilt(['demo', foreign, '--fresh']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is not empty and is not a silt index/);
  assert.deepEqual(listTree(foreign), ['cat.jpg']);
  const badKeys = await runSilt(['demo', join(work, 'x'), '--keys', '0']);
  assert.equal(badKeys.code, 2);
  assert.match(badKeys.stderr, /option '--keys <n>' argument '0' is invalid\. expected a whole number from 1 to 100000000\./);
});

/** An index of one flushed key in `dir`, left open for the caller to close. */
async function smallIndex(dir: string): Promise<Index> {
  const index = await Index.open(dir);
  await index.set('kept', 'yes');
  await index.flush();
  return index;
}

test('demo --fresh refuses an index that also holds a file silt did not write: exit 2, nothing removed', async () => {
  const dir = join(tempDir('demo-fresh-foreign'), 'idx');
  await (await smallIndex(dir)).close();
  writeFileSync(join(dir, 'notes.txt'), 'my notes');
  const before = listTree(dir);
  assert.ok(before.includes('notes.txt') && before.some((name) => name.endsWith('.seg')), before.join(', '));
  const refused = await runSilt(['demo', dir, '--fresh', '--keys', '10', '--readers', '0']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /holds files silt did not write; --fresh removes only an index/);
  assert.deepEqual(listTree(dir), before);
});

test('demo --fresh refuses an index a live writer holds open: exit 2, nothing removed', async () => {
  const dir = join(tempDir('demo-fresh-live'), 'idx');
  const index = await smallIndex(dir);
  try {
    const before = listTree(dir);
    const refused = await runSilt(['demo', dir, '--fresh', '--keys', '10', '--readers', '0']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`is open for writing in process ${process.pid}; stop it before --fresh removes the index`));
    assert.deepEqual(listTree(dir), before);
    assert.equal(index.get('kept'), 'yes', 'the writer still serves its index');
  } finally {
    await index.close();
  }
});

test('Ctrl-C stops the demo cleanly: readers closed, the index closed with what was acknowledged, exit 130', async () => {
  const work = tempDir('demo-interrupt');
  const demo = startSilt(['demo', 'idx', '--keys', '1000000', '--rate', '5000', '--readers', '2'], { cwd: work });
  await demo.waitForStderr(/loading keys.*: [1-9][\d,]*\/1,000,000/);
  demo.child.kill('SIGINT');
  const result = await demo.result;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /^silt demo: interrupted \(SIGINT\): [\d,]+ keys written; the index in idx keeps every acknowledged one$/m);
  const readerPids = /reader processes \(pid (\d+), (\d+)\)/.exec(result.stderr)!.slice(1).map(Number);
  assert.deepEqual(readerPids.filter(isProcessAlive), []);
  const written = Number(/([\d,]+) keys written/.exec(result.stderr)![1]!.replaceAll(',', ''));
  const stats = await runSilt(['stats', 'idx', '--json', '--count'], { cwd: work });
  const report = JSON.parse(stats.stdout) as { keys: number; writer: unknown; readers: unknown[] };
  assert.equal(report.keys - (await clientKeys(work, 'idx')), written, 'every acknowledged key is there, flushed at close');
  assert.equal(report.writer, null, 'the writer closed and let go of its lock');
  assert.deepEqual(report.readers, []);
});

/** The keys the demo's client processes wrote of their own (`client/<pid>/<n>`). */
async function clientKeys(cwd: string, directory: string): Promise<number> {
  const scan = await runSilt(['scan', directory, '--prefix', 'client/', '--keys-only'], { cwd });
  assert.equal(scan.code, 0, scan.stderr);
  return scan.stdout.split('\n').filter((line) => line.length > 0).length;
}
