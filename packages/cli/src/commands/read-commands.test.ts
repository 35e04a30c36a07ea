import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Index } from 'silt';
import { runSilt, SILT } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

/** Keys a..e, one binary key (not UTF-8) and one binary value, and 20,000 `n:` keys for a long scan; made once, only read. */
let shared: Promise<string> | undefined;
// The directory belongs to the file, not to the first test that asks for it.
const sharedDirectory = tempDir('read');
function fixture(): Promise<string> {
  shared ??= makeFixture();
  return shared;
}

async function makeFixture(): Promise<string> {
  const dir = join(sharedDirectory, 'idx');
  const index = await Index.open(dir);
  try {
    await index.mset(['a', 'b', 'c', 'd', 'e'].map((key) => [key, `value ${key}`] as [string, string]));
    await index.set(new Uint8Array([0xff, 0x00, 0x41]), 'binary key');
    await index.set('bytes', new Uint8Array([1, 2, 3]));
    await index.mset(Array.from({ length: 20_000 }, (_, i) => [`n:${String(i).padStart(5, '0')}`, 'x'] as [string, string]));
  } finally {
    await index.close();
  }
  return dir;
}

test('scan prints live entries in key order within --prefix, --gte/--lt, --limit and --reverse, as text or JSON Lines', async () => {
  const dir = await fixture();
  const [prefix, bounded, reversed, keysOnly, json] = await Promise.all([
    runSilt(['scan', dir, '--prefix', 'n:0000', '--limit', '3']),
    runSilt(['scan', dir, '--gte', 'b', '--lt', 'd']),
    runSilt(['scan', dir, '--lte', 'c', '--reverse', '--limit', '2']),
    runSilt(['scan', dir, '--gte', 'a', '--lt', 'f', '--keys-only']),
    runSilt(['scan', dir, '--gte', 'bytes', '--lt', 'c', '--json']),
  ]);
  assert.equal(prefix.stdout, 'n:00000\tx\nn:00001\tx\nn:00002\tx\n', prefix.stderr);
  assert.equal(bounded.stdout, 'b\tvalue b\nbytes\tbase64:AQID\nc\tvalue c\n');
  assert.equal(reversed.stdout, 'c\tvalue c\nbytes\tbase64:AQID\n');
  assert.equal(keysOnly.stdout, 'a\nb\nbytes\nc\nd\ne\n');
  assert.deepEqual(
    json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
    [{ key: 'bytes', value: 'AQID', valueEncoding: 'base64' }],
  );
  const all = await runSilt(['scan', dir, '--gt', 'n:', '--json']);
  const last = JSON.parse(all.stdout.trim().split('\n').at(-1)!) as unknown;
  assert.deepEqual(
    last,
    { key: '/wBB', keyEncoding: 'base64', value: 'binary key' },
    'a key that is not UTF-8 comes out as base64, marked',
  );
});

test('scan into a pipe that closes early (| head) stops quietly with exit 0', async () => {
  const dir = await fixture();
  const child = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${SILT}" scan "${dir}" | head -n 1`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(stdout, 'a\tvalue a\n');
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('bad read arguments exit 2 with one clear line', async () => {
  const dir = await fixture();
  const missing = join(tempDir('missing'), 'nothing-here');
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['scan', dir, '--gte', 'a', '--gt', 'b'], message: /^silt scan: give at most one of the range options gte and gt$/ },
    {
      args: ['scan', dir, '--limit', '-1'],
      message: /^silt scan: option '--limit <n>' argument '-1' is invalid\. expected a whole number at least 0\. \(see silt scan --help\)$/,
    },
    { args: ['scan', missing], message: /^silt scan: no silt index at .*nothing-here: the directory does not exist$/ },
    { args: ['get', dir], message: /^silt get: missing required argument 'key' \(see silt get --help\)$/ },
    { args: ['get', dir, ''], message: /^silt get: a key must not be empty$/ },
    { args: ['stats', missing], message: /no silt index/ },
    { args: ['export', missing], message: /no silt index/ },
    { args: ['frobnicate'], message: /unknown command 'frobnicate'/ },
  ];
  const results = await Promise.all(cases.map(({ args }) => runSilt(args)));
  for (const [i, { args, message }] of cases.entries()) {
    assert.equal(results[i]!.code, 2, `${args.join(' ')}: ${results[i]!.stderr}`);
    assert.match(results[i]!.stderr.trim(), message);
    assert.equal(results[i]!.stdout, '');
  }
});

test('--help works on every command and shows its examples; --version prints the version; no command is a usage error', async () => {
  const commands = ['demo', 'get', 'set', 'del', 'scan', 'stats', 'verify', 'compact', 'import', 'export', 'watch'];
  const results = await Promise.all([
    ...commands.map((command) => runSilt([command, '--help'])),
    runSilt(['--help']),
    runSilt(['--version']),
    runSilt([]),
  ]);
  for (const [i, command] of commands.entries()) {
    assert.equal(results[i]!.code, 0, command);
    assert.match(results[i]!.stdout, new RegExp(`Usage: silt ${command}`));
    assert.match(results[i]!.stdout, /--json/);
    assert.match(results[i]!.stdout, /Examples:/);
  }
  const [help, version, nothing] = results.slice(commands.length);
  assert.match(help!.stdout, /Exit codes:/);
  assert.match(version!.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.equal(nothing!.code, 2);
  assert.match(nothing!.stderr, /Usage: silt/);
});
