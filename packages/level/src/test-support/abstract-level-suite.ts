// Runs abstract-level's own test suite (tape) against SiltLevel, each
// database in a fresh directory under one temp directory, removed at the end.
// Prints the failures and tape's summary (`# tests`, `# pass  N`, `# fail  N`);
// the ok lines (thousands) are left out. Exits non-zero on any failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import tape from 'tape';
import suite from 'abstract-level/test/index.js';
import { SiltLevel, type SiltLevelOptions } from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'silt-level-suite-'));
let made = 0;

const harness = tape.createHarness();
const tap = new PassThrough();
harness.createStream().pipe(tap);

// Each failure is shown with the name of its test (the last `# name` line before it).
let testName = '';
let inFailure = false;
createInterface({ input: tap }).on('line', (line) => {
  if (/^# (tests|pass|fail)\b/.test(line)) {
    process.stdout.write(`${line}\n`);
    return;
  }
  if (line.startsWith('# ')) testName = line;
  if (line.startsWith('not ok')) {
    if (!inFailure) process.stdout.write(`${testName}\n`);
    inFailure = true;
  } else if (line.startsWith('ok ') || line.startsWith('# ')) inFailure = false;
  if (inFailure) process.stdout.write(`${line}\n`);
});

harness.onFinish(() => rmSync(root, { recursive: true, force: true }));
harness.onFailure(() => {
  process.exitCode = 1;
});

suite({
  test: harness,
  factory: (options?: SiltLevelOptions<unknown, unknown>) => new SiltLevel(join(root, String(made++)), options),
});
