import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSilt } from './test-support/silt-process.js';

// Argument errors are refused before anything is opened, so no index is needed here.
const cases: ReadonlyArray<{ args: readonly string[]; line: string }> = [
  { args: ['bogus'], line: "silt: unknown command 'bogus' (see silt --help)" },
  { args: ['help', 'bogus'], line: "silt: unknown command 'bogus' (see silt --help)" },
  { args: ['stat', 'idx'], line: "silt: unknown command 'stat'; did you mean stats? (see silt --help)" },
  { args: ['--bogus'], line: "silt: unknown option '--bogus' (see silt --help)" },
  { args: ['get', 'idx'], line: "silt get: missing required argument 'key' (see silt get --help)" },
  {
    args: ['set', 'idx', 'k', 'v', 'extra'],
    line: "silt set: too many arguments for 'set'. Expected 3 arguments but got 4. (see silt set --help)",
  },
  { args: ['scan', 'idx', '--nope'], line: "silt scan: unknown option '--nope' (see silt scan --help)" },
  {
    args: ['demo', 'idx', '--keys', 'many'],
    line: "silt demo: option '--keys <n>' argument 'many' is invalid. expected a whole number from 1 to 100000000. (see silt demo --help)",
  },
];

test('an argument error is one line naming the command and its --help, exit 2, nothing on standard output', async () => {
  const results = await Promise.all(cases.map(({ args }) => runSilt(args)));
  for (const [i, { args, line }] of cases.entries()) {
    const result = results[i]!;
    assert.equal(result.code, 2, `silt ${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `${line}\n`, `silt ${args.join(' ')}`);
    assert.equal(result.stdout, '');
  }
});

test('with --json an argument error is the JSON error object the other failures print', async () => {
  const results = await Promise.all(cases.map(({ args }) => runSilt([...args, '--json'])));
  for (const [i, { args, line }] of cases.entries()) {
    const result = results[i]!;
    assert.equal(result.code, 2, `silt ${args.join(' ')} --json: ${result.stderr}`);
    assert.equal(result.stdout, '');
    const message = line.slice(line.indexOf(': ') + 2);
    assert.deepEqual(JSON.parse(result.stderr), { error: { code: 'SILT_USAGE', message, exitCode: 2 } });
  }
});

test('help and version are not argument errors: they print and exit 0', async () => {
  const [help, commandHelp, version] = await Promise.all([runSilt(['--help']), runSilt(['get', '--help']), runSilt(['--version'])]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: silt /);
  assert.equal(commandHelp.code, 0);
  assert.match(commandHelp.stdout, /^Usage: silt get /);
  assert.equal(version.code, 0);
  assert.equal(help.stderr + commandHelp.stderr + version.stderr, '');
});
