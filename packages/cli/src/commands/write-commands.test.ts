import { test } from 'node:test';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index } from 'silt';
import { listTree, runSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

test('set creates the index, get prints the value, del deletes and says which keys were there', async () => {
  const dir = join(tempDir('set-get-del'), 'idx');
  const set = await runSilt(['set', dir, 'greeting', 'hello world']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /set "greeting"/);
  const get = await runSilt(['get', dir, 'greeting']);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, 'hello world\n');
  const json = await runSilt(['get', dir, 'greeting', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { key: 'greeting', found: true, value: 'hello world' });

  const del = await runSilt(['del', dir, 'greeting', 'never-set', '--json']);
  assert.equal(del.code, 0, del.stderr);
  const report = JSON.parse(del.stdout) as { deleted: Array<{ key: string; existed: boolean }> };
  assert.deepEqual(report.deleted, [
    { key: 'greeting', existed: true },
    { key: 'never-set', existed: false },
  ]);
  const gone = await runSilt(['get', dir, 'greeting']);
  assert.equal(gone.code, 3, 'an absent key exits 3');
  assert.equal(gone.stdout, '');
  assert.match(gone.stderr, /no key "greeting"/);
  assert.deepEqual(JSON.parse((await runSilt(['get', dir, 'greeting', '--json'])).stdout), { key: 'greeting', found: false });
});

test('repeated one-shot sets do not pile up segments: each waits for the merges it set off', async () => {
  const dir = join(tempDir('repeated-sets'), 'idx');
  for (let i = 0; i < 4; i++) assert.equal((await runSilt(['set', dir, `k${i}`, `v${i}`])).code, 0);
  const [stats, scan] = await Promise.all([runSilt(['stats', dir, '--json']), runSilt(['scan', dir])]);
  const { segments } = JSON.parse(stats.stdout) as { segments: unknown[] };
  assert.ok(segments.length < 4, `${segments.length} segments after 4 sets`);
  assert.equal(scan.stdout, 'k0\tv0\nk1\tv1\nk2\tv2\nk3\tv3\n');
});

test('bad arguments to set and del exit 2 with one line, and write nothing: not even the index directory', async () => {
  const work = tempDir('bad-writes');
  const dir = join(work, 'idx');
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['set', dir, '', 'v'], message: /^silt set: a key must not be empty$/m },
    { args: ['set', dir, 'k'], message: /missing required argument 'value'/ },
    { args: ['set', dir, 'k', 'v', 'extra'], message: /too many arguments/ },
    { args: ['set', dir, 'k'.repeat(70_000), 'v'], message: /a key is 70000 bytes; the limit is 65535 bytes/ },
    { args: ['set', dir, 'k', 'v', '--nope'], message: /unknown option '--nope'/ },
    { args: ['del', dir, 'k'], message: /no silt index at .*idx: the directory does not exist/ },
  ];
  const results = await Promise.all(cases.map(({ args }) => runSilt(args)));
  for (const [i, { args, message }] of cases.entries()) {
    const result = results[i]!;
    assert.equal(result.code, 2, `${args.slice(0, 4).join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack without --verbose');
    assert.equal(existsSync(dir), false, `${args[0]} created the directory`);
  }
});

test('a write into a directory that holds other files is refused, and changes nothing there', async () => {
  const work = tempDir('foreign');
  mkdirSync(join(work, 'documents'));
  writeFileSync(join(work, 'documents', 'notes.txt'), 'mine');
  const before = listTree(join(work, 'documents'));
  const result = await runSilt(['set', join(work, 'documents'), 'k', 'v']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /is not a silt index \(it holds other files and no index manifest\); refusing to write there/);
  assert.deepEqual(listTree(join(work, 'documents')), before);
});

test('a write while another process holds the writer lock fails at once with one line naming that pid; reads still work', async () => {
  const dir = join(tempDir('locked'), 'idx');
  const index = await Index.open(dir);
  try {
    await index.set('held', 'by the test process');
    await index.flush();
    const [result, verbose, json, get] = await Promise.all([
      runSilt(['set', dir, 'k', 'v']),
      runSilt(['del', dir, 'k', '--verbose']),
      runSilt(['set', dir, 'k', 'v', '--json']),
      runSilt(['get', dir, 'held']),
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`open for writing in process ${process.pid}, and an index has one writer at a time`));
    assert.equal(verbose.code, 1);
    assert.match(verbose.stderr, /LockError: .*\n\s+at /, '--verbose adds the stack');
    assert.equal((JSON.parse(json.stderr) as { error: { code: string; exitCode: number } }).error.code, 'SILT_LOCKED');
    assert.equal(get.stdout, 'by the test process\n', 'reads never take the writer lock');
    assert.equal(index.get('k'), undefined);
  } finally {
    await index.close();
  }
});
