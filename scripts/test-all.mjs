#!/usr/bin/env node
// Runs every package's tests through turbo, streams the output, and ends with
// one line totalled over all packages: `N passed, N failed`. Turbo prefixes
// each package's lines, so the totals are summed from node:test's summaries.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const turboArgs = ['run', 'test', '--output-logs=full', '--log-order=grouped', ...process.argv.slice(2)];
const child = spawn('turbo', turboArgs, { stdio: ['ignore', 'pipe', 'inherit'], shell: false });

let passed = 0;
let failed = 0;
let summaries = 0;
const summary = /[ℹ#] (pass|fail|cancelled) (\d+)\s*$/;

createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const match = summary.exec(line);
  if (match === null) return;
  const count = Number(match[2]);
  if (match[1] === 'pass') {
    passed += count;
    summaries++;
  } else {
    failed += count;
  }
});

child.on('close', (code) => {
  const turboFailed = code !== 0;
  if (turboFailed && failed === 0) failed = 1; // a build or runner failure with no test summary still fails
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  if (summaries === 0 && !turboFailed) {
    process.stderr.write('no test summaries were seen; refusing to report success\n');
    process.exit(1);
  }
  process.exit(turboFailed || failed > 0 ? 1 : 0);
});
