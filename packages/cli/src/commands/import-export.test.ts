import { test } from 'node:test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index } from 'silt';
import type { ImportReport } from './import.js';
import { listTree, runSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

const RECORDS = [
  '{"key":"user:1","value":"Ada"}',
  '{"key":"user:2","value":{"name":"Grace","langs":["COBOL"]}}',
  '{"key":"blob","value":"AAEC/w==","valueEncoding":"base64"}',
  '{"key":"/wBB","keyEncoding":"base64","value":"a key that is not UTF-8"}',
  '',
  '{"key":"user:3","value":"Linus","extra":"ignored"}',
].join('\n');

test('import reads JSON Lines: strings, JSON values as their text, base64 keys and values; blank lines are skipped', async () => {
  const work = tempDir('import-jsonl');
  const dir = join(work, 'idx');
  writeFileSync(join(work, 'records.jsonl'), `${RECORDS}\n`);
  const result = await runSilt(['import', dir, join(work, 'records.jsonl'), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as ImportReport;
  assert.equal(report.imported, 5);
  assert.equal(report.format, 'jsonl');
  assert.equal(report.skipped, 0);
  const index = await Index.open(dir);
  try {
    assert.equal(index.get('user:1'), 'Ada');
    assert.equal(index.get('user:2'), '{"name":"Grace","langs":["COBOL"]}');
    assert.deepEqual(index.get('blob'), new Uint8Array([0, 1, 2, 255]), 'a base64 value comes back as bytes');
    assert.equal(index.get(new Uint8Array([0xff, 0x00, 0x41])), 'a key that is not UTF-8');
    assert.equal(index.get('user:3'), 'Linus');
  } finally {
    await index.close();
  }
});

test('import reads TSV from standard input: key, tab, the rest of the line (tabs included)', async () => {
  const dir = join(tempDir('import-tsv'), 'idx');
  const result = await runSilt(['import', dir, '-', '--format', 'tsv'], { input: 'a\tone\r\nb\ttwo\tand a tab\n\nc\t\n' });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^imported 3 records from standard input into .* \(tsv, 1 batch, /);
  const scan = await runSilt(['scan', dir, '--json']);
  assert.deepEqual(
    scan.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
    [
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two\tand a tab' },
      { key: 'c', value: '' },
    ],
  );
});

test('a malformed line stops the import with the records before it imported; --dry-run names every one and writes nothing; --continue skips them', async () => {
  const work = tempDir('import-bad');
  const dir = join(work, 'idx');
  const file = join(work, 'mixed.jsonl');
  writeFileSync(
    file,
    ['{"key":"a","value":"1"}', '{"key":"b","value":"2"', '{"key":"","value":"3"}', '{"value":"4"}', '{"key":"e","value":"5"}'].join('\n'),
  );
  const dryRun = await runSilt(['import', dir, file, '--dry-run']);
  assert.equal(dryRun.code, 1);
  assert.match(
    dryRun.stdout,
    /^checked .*mixed\.jsonl: 2 records to import into .*, 3 malformed lines \(jsonl; dry run, nothing written\)$/m,
  );
  assert.match(dryRun.stderr, /^silt import: .*mixed\.jsonl, line 2: not valid JSON \(.*\); 2 more malformed lines \(3, 4\)$/m);
  assert.equal(existsSync(dir), false, 'a dry run writes nothing, not even the directory');

  const firstBad = join(work, 'first-bad.tsv');
  writeFileSync(firstBad, 'no tab here\na\t1\n');
  const refused = await runSilt(['import', dir, firstBad]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /line 1: no tab between key and value; nothing was imported/);
  assert.equal(existsSync(dir), false, 'a malformed first record creates nothing');

  const strict = await runSilt(['import', dir, file, '--json']);
  assert.equal(strict.code, 1);
  assert.equal(strict.stderr.trim().split('\n').length, 1, strict.stderr);
  const { error } = JSON.parse(strict.stderr) as { error: { code: string; message: string } };
  assert.equal(error.code, 'SILT_IMPORT_LINE');
  assert.match(
    error.message,
    /mixed\.jsonl, line 2: not valid JSON \(.*\); the 1 record before it was imported, nothing from it on \(fix the line/,
  );
  assert.equal((await runSilt(['scan', dir])).stdout, 'a\t1\n', 'the line before the malformed one, and nothing after');

  const before = listTree(dir);
  assert.equal((await runSilt(['import', dir, file, '--dry-run'])).code, 1);
  assert.deepEqual(listTree(dir), before, 'a dry run leaves an existing index as it was');

  const lenient = await runSilt(['import', dir, file, '--continue', '--json']);
  assert.equal(lenient.code, 0, lenient.stderr);
  const report = JSON.parse(lenient.stdout) as ImportReport;
  assert.equal(report.imported, 2);
  assert.deepEqual(
    report.skippedLines.map((line) => line.line),
    [2, 3, 4],
  );
  assert.match(report.skippedLines[1]!.reason, /a key must not be empty/);
  assert.match(report.skippedLines[2]!.reason, /no "key" field/);
  const scan = await runSilt(['scan', dir]);
  assert.equal(scan.stdout, 'a\t1\ne\t5\n');
});

test('import with bad arguments exits 2 and writes nothing', async () => {
  const work = tempDir('import-args');
  const dir = join(work, 'idx');
  writeFileSync(join(work, 'ok.tsv'), 'a\t1\n');
  mkdirSync(join(work, 'photos'));
  writeFileSync(join(work, 'photos', 'cat.jpg'), 'meow');
  const [missingFile, badFormat, foreign, badBatch] = await Promise.all([
    runSilt(['import', dir, join(work, 'nope.jsonl')]),
    runSilt(['import', dir, join(work, 'ok.tsv'), '--format', 'csv']),
    runSilt(['import', join(work, 'photos'), join(work, 'ok.tsv')]),
    runSilt(['import', dir, join(work, 'ok.tsv'), '--batch', '0']),
  ]);
  for (const result of [missingFile, badFormat, foreign, badBatch]) assert.equal(result.code, 2, result.stderr);
  assert.match(missingFile.stderr, /cannot import .*nope\.jsonl: no such file/);
  assert.match(badFormat.stderr, /argument 'csv' is invalid\. Allowed choices are jsonl, tsv\./);
  assert.match(foreign.stderr, /photos is not a silt index/);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(listTree(join(work, 'photos')), ['cat.jpg']);
});

test('export writes JSON Lines that import reads back exactly, binary keys and values included; an existing file needs --force', async () => {
  const work = tempDir('export');
  const source = join(work, 'source');
  writeFileSync(join(work, 'records.jsonl'), RECORDS);
  assert.equal((await runSilt(['import', source, join(work, 'records.jsonl')])).code, 0);
  const file = join(work, 'export.jsonl');
  const exported = await runSilt(['export', source, file]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^exported 5 entries of .* to .*export\.jsonl$/m);
  const [again, forced, toStdout] = await Promise.all([
    runSilt(['export', source, file]),
    runSilt(['export', source, file, '--force', '--prefix', 'user:']),
    runSilt(['export', source]),
  ]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /export\.jsonl exists; add --force to replace it/);
  assert.equal(forced.code, 0);
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3, '--force replaced it with the --prefix subset');
  assert.deepEqual(
    listTree(work).filter((name) => name.includes('silt-export')),
    [],
    'no temporary file left',
  );

  const copy = join(work, 'copy');
  const imported = await runSilt(['import', copy, '-'], { input: toStdout.stdout });
  assert.equal(imported.code, 0, imported.stderr);
  const [original, copied] = await Promise.all([runSilt(['scan', source, '--json']), runSilt(['scan', copy, '--json'])]);
  assert.equal(copied.stdout, original.stdout);
  assert.match(original.stdout, /"valueEncoding":"base64"/);
  assert.match(original.stdout, /"keyEncoding":"base64"/);
});

test('a malformed line mid-file, in the middle of a batch: every record on the lines before it is imported, none after', async () => {
  const work = tempDir('import-mid-file');
  const dir = join(work, 'idx');
  const file = join(work, 'records.tsv');
  const lines = Array.from({ length: 5000 }, (_, i) => `key:${String(i + 1).padStart(5, '0')}\tvalue ${i + 1}`);
  lines[2499] = 'a line without a tab';
  writeFileSync(file, `${lines.join('\n')}\n`);
  const result = await runSilt(['import', dir, file, '--batch', '1000', '--json']);
  assert.equal(result.code, 1);
  const { error } = JSON.parse(result.stderr) as { error: { code: string; message: string } };
  assert.equal(error.code, 'SILT_IMPORT_LINE');
  assert.match(
    error.message,
    /records\.tsv, line 2500: no tab between key and value; the 2,499 records before it were imported, nothing from it on/,
  );
  const keys = (await runSilt(['scan', dir, '--keys-only'])).stdout.trim().split('\n');
  assert.equal(keys.length, 2499);
  assert.equal(keys.at(-1), 'key:02499');
});

test('lines cut by chunk boundaries (multi-byte characters, CRLF, blank lines, a byte order mark) import whole, from a file and from a pipe', async () => {
  const work = tempDir('import-chunks');
  const expected = new Map<string, string>();
  const lines: string[] = [];
  // The text's length so far, kept as lines are added (joining them at every line took 90 s).
  let length = 0;
  const add = (line: string): void => {
    lines.push(line);
    length += line.length + 1;
  };
  for (let i = 0; length < 3 * 1024 * 1024; i++) {
    const key = `k${i}-${'é😀'.repeat(i % 7)}`;
    const value = `${'ü'.repeat(i % 300)}${'x'.repeat((i * 37) % 500)}😀`;
    expected.set(key, value);
    add(`${JSON.stringify({ key, value })}${i % 5 === 0 ? '\r' : ''}`);
    if (i % 11 === 0) add('   ');
  }
  const text = `\uFEFF${lines.join('\n')}`;
  writeFileSync(join(work, 'records.jsonl'), text);
  const [fromFile, fromPipe] = await Promise.all([
    runSilt(['import', join(work, 'a'), join(work, 'records.jsonl'), '--json']),
    runSilt(['import', join(work, 'b'), '-', '--json'], { input: text }),
  ]);
  for (const [result, dir] of [
    [fromFile, 'a'],
    [fromPipe, 'b'],
  ] as const) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as ImportReport).imported, expected.size);
    const index = await Index.open(join(work, dir));
    try {
      for (const [key, value] of expected) assert.equal(index.get(key), value, key);
    } finally {
      await index.close();
    }
  }
});
