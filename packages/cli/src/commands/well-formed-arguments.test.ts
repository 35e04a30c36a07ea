import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportReport } from './import.js';
import { listTree, runSilt, type SiltResult } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

const MAIN = new URL('../main.js', import.meta.url).href;

/**
 * `silt` with `args` passed to runCli as they are. A lone surrogate cannot
 * cross a POSIX command line (Node decodes argv as UTF-8, so it would arrive
 * as U+FFFD), but it can on Windows, whose command line is UTF-16: the
 * arguments go to the child as JSON (ASCII escapes) and to runCli unchanged,
 * which exits as bin/silt.js does.
 */
function runCliWith(args: readonly string[]): Promise<SiltResult> {
  const script = `
    import { runCli } from ${JSON.stringify(MAIN)};
    const code = await runCli(JSON.parse(process.argv[1]));
    await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
    process.exit(code);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test('set, get and del with a lone surrogate in the key or value exit 2 with one line, and write nothing', async () => {
  const dir = join(tempDir('lone-surrogate-args'), 'idx');
  const refused = await runCliWith(['set', dir, 'k\uD800', 'v']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stderr, 'silt set: a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1\n');
  const badValue = await runCliWith(['set', dir, 'k', 'v\uDBFF']);
  assert.equal(badValue.code, 2, badValue.stderr);
  assert.equal(badValue.stderr, 'silt set: a value must be well-formed UTF-16: it has a lone surrogate \\uDBFF at index 1\n');
  assert.equal(existsSync(dir), false, 'a refused set does not create the index directory');

  assert.equal((await runSilt(['set', dir, 'k\uFFFD', 'replacement character'])).code, 0);
  const before = listTree(dir);
  const [get, del] = await Promise.all([runCliWith(['get', dir, 'k\uDBFF']), runCliWith(['del', dir, 'k\uDBFF'])]);
  assert.equal(get.code, 2, get.stderr);
  assert.match(get.stderr, /^silt get: a key must be well-formed UTF-16: it has a lone surrogate \\uDBFF at index 1$/m);
  assert.equal(del.code, 2, del.stderr);
  assert.match(del.stderr, /^silt del: a key must be well-formed UTF-16/m);
  assert.deepEqual(listTree(dir), before);
  assert.equal((await runSilt(['get', dir, 'k\uFFFD'])).stdout, 'replacement character\n', 'the stored key is untouched');
});

test('import of a JSON Lines file with a lone surrogate on line 3 names line 3 and imports the lines before it', async () => {
  const work = tempDir('lone-surrogate-import');
  const dir = join(work, 'idx');
  const file = join(work, 'records.jsonl');
  writeFileSync(
    file,
    ['{"key":"a","value":"1"}', '{"key":"😀","value":"\\ud83d\\ude00"}', '{"key":"k\\ud800","value":"3"}', '{"key":"d","value":"4"}'].join(
      '\n',
    ),
  );
  const checked = await runSilt(['import', dir, file, '--dry-run']);
  assert.equal(checked.code, 1, checked.stderr);
  assert.match(
    checked.stderr,
    /^silt import: .*records\.jsonl, line 3: a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1$/m,
  );
  assert.equal(existsSync(dir), false, 'nothing written, not even the directory');

  const stopped = await runSilt(['import', dir, file]);
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(
    stopped.stderr,
    /^silt import: .*records\.jsonl, line 3: a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1; the 2 records before it were imported, nothing from it on/m,
  );
  assert.equal((await runSilt(['scan', dir, '--keys-only'])).stdout, 'a\n😀\n');

  const lenient = await runSilt(['import', dir, file, '--continue', '--json']);
  assert.equal(lenient.code, 0, lenient.stderr);
  const report = JSON.parse(lenient.stdout) as ImportReport;
  assert.deepEqual(report.skippedLines, [
    { line: 3, reason: 'a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1' },
  ]);
  assert.equal((await runSilt(['get', dir, '😀'])).stdout, '😀\n', 'a surrogate pair escaped in JSON is one astral character');
  assert.equal((await runSilt(['get', dir, 'd'])).stdout, '4\n');
});

test('import names a value with a lone surrogate by its line', async () => {
  const work = tempDir('lone-surrogate-value-import');
  const file = join(work, 'values.jsonl');
  writeFileSync(file, '{"key":"a","value":"ok"}\n{"key":"b","value":"x\\udc00"}\n');
  const result = await runSilt(['import', join(work, 'idx'), file]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /line 2: a value must be well-formed UTF-16: it has a lone surrogate \\uDC00 at index 1; the 1 record before it was imported, nothing from it on/,
  );
});
