#!/usr/bin/env node
// Runs every package's tests through turbo, streams the output, and ends with
// one line totalled over all packages: `N passed, N failed`. Turbo prefixes
// each package's lines, so the totals are summed from node:test's summaries.
// A run that passes its deadline (SILT_TEST_DEADLINE_MINUTES, 30 by default;
// none with SOAK=1) names the test files still running and is stopped: a test
// stuck in a synchronous loop never reaches node:test's own timeouts.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// --continue: every package's tests run even after one fails, so the totals count them all.
const turboArgs = ['run', 'test', '--continue', '--output-logs=full', '--log-order=grouped', ...process.argv.slice(2)];
const child = spawn('turbo', turboArgs, { stdio: ['ignore', 'pipe', 'inherit'], shell: false, detached: true });
const deadlineMinutes = Number(process.env.SILT_TEST_DEADLINE_MINUTES ?? (process.env.SOAK === '1' ? 0 : 30));
let pastDeadline = false;
const deadline =
  deadlineMinutes > 0
    ? setTimeout(() => {
        pastDeadline = true;
        process.stderr.write(`the tests ran past ${deadlineMinutes} minutes; still running:\n${runningTestFiles()}`);
        process.kill(-child.pid, 'SIGKILL');
      }, deadlineMinutes * 60_000)
    : undefined;

// turbo leads a process group of its own (so a deadline can stop all of it): pass Ctrl-C and SIGTERM on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.kill(-child.pid, signal));

/** The test files whose processes are still alive, with how long they have run (ps's etime). */
function runningTestFiles() {
  const lines = execFileSync('ps', ['-eo', 'etime=,args='], { encoding: 'utf8' }).split('\n');
  const running = lines.filter((line) => /\.test\.js\b/.test(line) && !line.includes('--test ')).map((line) => `  ${line.trim()}`);
  return `${running.join('\n') || '  (none found)'}\n`;
}

let passed = 0;
let failed = 0;
let summaries = 0;
// node:test prints `ℹ pass 12`; tape (abstract-level's suite in @silt/level) prints `# pass  12`.
const summary = /[ℹ#] (pass|fail|cancelled) +(\d+)\s*$/;

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
  clearTimeout(deadline);
  const turboFailed = code !== 0 || pastDeadline;
  if (turboFailed && failed === 0) failed = 1; // a build or runner failure with no test summary still fails
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  if (summaries === 0 && !turboFailed) {
    process.stderr.write('no test summaries were seen; refusing to report success\n');
    process.exit(1);
  }
  process.exit(turboFailed || failed > 0 ? 1 : 0);
});
