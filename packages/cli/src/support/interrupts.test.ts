import { before, test } from 'node:test';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index } from 'silt';
import { startSilt, type SiltProcess, type SiltResult } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';
import assert from 'node:assert/strict';

/** Enough entries that an export runs for a good second: the signal lands while it writes. */
const EXPORT_KEYS = 200_000;
const IMPORT_RECORDS = 100_000;
const IMPORT_BATCH = 1_000;

function keyAt(i: number): string {
  return `key:${String(i).padStart(7, '0')}`;
}

function valueAt(i: number): string {
  return `value ${i} `.padEnd(40, '.');
}

const exportSource = join(tempDir('signals-source'), 'idx');

before(async () => {
  const index = await Index.open(exportSource, { refreshIntervalMs: 2 ** 31 - 1 });
  try {
    for (let start = 0; start < EXPORT_KEYS; start += 10_000) {
      await index.mset(Array.from({ length: 10_000 }, (_, j): [string, string] => [keyAt(start + j), valueAt(start + j)]));
    }
    await index.flush(); // the export reads segments; close would leave this much in the log
  } finally {
    await index.close();
  }
});

/** Polls until `condition` holds; fails if the process ends first (the work finished before the test could interrupt it). */
async function whileRunning(silt: SiltProcess, what: string, condition: () => boolean): Promise<void> {
  for (;;) {
    if (condition()) return;
    const ended = await Promise.race([silt.result.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5))]);
    if (ended) throw new Error(`silt ended before ${what}; stdout: ${silt.stdout}; stderr: ${silt.stderr}`);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Standard error less its progress lines (on a slow machine any phase may print some: `checking`, then `importing`). */
function messageLines(result: SiltResult, ...progressTitles: string[]): string[] {
  return result.stderr.split('\n').filter((line) => line !== '' && !progressTitles.some((title) => line.startsWith(`${title}: `)));
}

async function interruptExport(signal: NodeJS.Signals): Promise<{ result: SiltResult; left: string[] }> {
  const out = tempDir(`export-${signal}`);
  const file = join(out, 'all.jsonl');
  const silt = startSilt(['export', exportSource, file]);
  // The export writes a temporary file beside its target: once it holds entries, the export is under way.
  const temporary = `${file}.${silt.child.pid}.silt-export`;
  await whileRunning(silt, 'its temporary file held entries', () => sizeOf(temporary) > 0);
  silt.child.kill(signal);
  const result = await silt.result;
  return { result, left: readdirSync(out) };
}

function assertStoppedExport(result: SiltResult, signal: NodeJS.Signals): void {
  const [line, ...more] = messageLines(result, 'exporting');
  assert.deepEqual(more, [], `one line on standard error: ${result.stderr}`);
  const stopped = new RegExp(`^silt export: interrupted \\(${signal}\\): stopped after ([\\d,]+) entries$`).exec(line ?? '');
  assert.ok(stopped !== null, `the line says the export was interrupted: ${result.stderr}`);
  assert.ok(Number(stopped[1]!.replaceAll(',', '')) < EXPORT_KEYS, 'it stopped before the end');
  assert.equal(result.stdout, '', 'nothing reports an export');
}

test('SIGTERM stops an export: exit 143, one line on standard error, neither the file nor a temporary file left', async () => {
  const { result, left } = await interruptExport('SIGTERM');
  assert.equal(result.signal, null, 'silt exits by itself, not killed by the signal');
  assert.equal(result.code, 143, result.stderr);
  assertStoppedExport(result, 'SIGTERM');
  assert.deepEqual(left, [], 'no half-written export and no temporary file');
});

test('Ctrl-C (SIGINT) stops an export the same way, with exit 130', async () => {
  const { result, left } = await interruptExport('SIGINT');
  assert.equal(result.signal, null, 'silt exits by itself, not killed by the signal');
  assert.equal(result.code, 130, result.stderr);
  assertStoppedExport(result, 'SIGINT');
  assert.deepEqual(left, []);
});

test('Ctrl-C stops an import between batches: exit 130, the index holds exactly the whole batches it reports, the lock is free', async () => {
  const work = tempDir('import-interrupted');
  const input = join(work, 'records.jsonl');
  const dir = join(work, 'idx');
  const records = Array.from({ length: IMPORT_RECORDS }, (_, i): [string, string] => [keyAt(i), valueAt(i)]);
  writeFileSync(input, records.map(([key, value]) => `${JSON.stringify({ key, value })}\n`).join(''));

  const silt = startSilt(['import', dir, input, '--batch', String(IMPORT_BATCH)]);
  // Every line is checked before the index is opened; once its log holds bytes, batches are being written.
  const logBytes = (): number => {
    try {
      // Log files only: the acknowledged marker beside them is written at open, before any batch.
      const logFiles = readdirSync(join(dir, 'wal')).filter((name) => name.endsWith('.log'));
      return logFiles.reduce((sum, name) => sum + sizeOf(join(dir, 'wal', name)), 0);
    } catch {
      return 0;
    }
  };
  await whileRunning(silt, 'the first batch reached the log', () => logBytes() > 0);
  silt.child.kill('SIGINT');
  const result = await silt.result;

  assert.equal(result.signal, null);
  assert.equal(result.code, 130, result.stderr);
  const [line, ...more] = messageLines(result, 'checking', 'importing');
  assert.deepEqual(more, [], `one line on standard error: ${result.stderr}`);
  const stopped = /^silt import: interrupted \(SIGINT\): ([\d,]+) records? imported in whole batches, the rest not$/.exec(line ?? '');
  assert.ok(stopped !== null, `the line says the import was interrupted: ${result.stderr}`);
  const imported = Number(stopped[1]!.replaceAll(',', ''));
  assert.ok(imported > 0 && imported < IMPORT_RECORDS, `${imported} records imported`);
  assert.equal(imported % IMPORT_BATCH, 0, 'whole batches only');

  // Opening it as a writer shows the lock was released; its contents are exactly the reported prefix.
  const index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1 });
  try {
    assert.deepEqual([...index.range()], records.slice(0, imported));
  } finally {
    await index.close();
  }
});
