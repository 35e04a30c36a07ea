import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES } from '@silt/wal';
import { Index } from '../index.js';
import type { StatsReport } from './stats.js';
import type { VerifyReport } from './verify.js';
import { runSilt, workDirectory } from './test-support/silt-process.js';
import { appendToLog, damageLogRecord } from '../test-support/log-append.js';

/**
 * Two segments and a log whose newest file holds several records, written
 * in 'fsync' mode: each record then carries proof that the ones before it
 * were synced, so damage to an early record is corruption, not a torn write.
 */
async function fixture(label: string): Promise<string> {
  const dir = join(workDirectory(label), 'idx');
  // No flush timer: a tick between the late sets would make a third segment on a loaded machine.
  const index = await Index.open(dir, { durability: 'fsync', autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 });
  try {
    await index.mset(Array.from({ length: 2000 }, (_, i) => [`key:${i}`, `value ${i}`] as [string, string]));
    await index.flush();
    for (let i = 0; i < 5; i++) await index.set(`late:${i}`, `value ${i}`);
  } finally {
    await index.close();
  }
  return dir;
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0x5a;
  writeFileSync(path, bytes);
}

test('stats describes the generation, its segments, the log, the writer and readers, without taking the writer lock', async () => {
  const dir = await fixture('stats');
  const index = await Index.open(dir);
  try {
    const [json, plain] = await Promise.all([runSilt(['stats', dir, '--json', '--count']), runSilt(['stats', dir])]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatsReport;
    assert.equal(report.generation, index.stats().generation);
    assert.deepEqual(report.segments.map((segment) => segment.id), index.stats().segments.map((segment) => segment.id));
    assert.equal(report.entries, 2005);
    assert.equal(report.keys, 2005);
    assert.ok(report.wal.files.length >= 1 && report.wal.bytes > 0);
    assert.deepEqual(report.writer, { pid: process.pid, running: true });
    assert.match(plain.stdout, new RegExp(`writer      pid ${process.pid}, running`));
    assert.match(plain.stdout, /segments    2, .*2,005 entries \(0 tombstones\)/);
  } finally {
    await index.close();
  }
});

test('verify passes a sound index, also while a writer has it open', async () => {
  const dir = await fixture('sound');
  const index = await Index.open(dir);
  try {
    const [plain, json] = await Promise.all([runSilt(['verify', dir]), runSilt(['verify', dir, '--json'])]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^ok: every checksum of \d+ files verified/m);
    const report = JSON.parse(json.stdout) as VerifyReport;
    assert.equal(report.ok, true);
    assert.equal(report.files.filter((file) => file.kind === 'segment').length, 2);
    assert.ok(report.files.some((file) => file.kind === 'wal' && file.status === 'ok' && (file.records ?? 0) > 1));
  } finally {
    await index.close();
  }
});

test('verify catches a flipped byte in a segment: exit 1, the file and the offset', async () => {
  const dir = await fixture('segment-damage');
  const { segments } = JSON.parse((await runSilt(['stats', dir, '--json'])).stdout) as StatsReport;
  const victim = segments[0]!;
  flipByte(join(dir, victim.file), Math.floor(victim.bytes / 3));
  const [plain, json] = await Promise.all([runSilt(['verify', dir]), runSilt(['verify', dir, '--json'])]);
  assert.equal(plain.code, 1);
  assert.match(plain.stdout, new RegExp(`DAMAGED\\s+${victim.file.replace('.', '\\.')}\\s.*at offset [\\d,]+: `));
  assert.match(plain.stderr, new RegExp(`^silt verify: 1 damaged file of \\d+ in .*: ${victim.file.replace('.', '\\.')} at offset \\d+\\n$`));
  const report = JSON.parse(json.stdout) as VerifyReport;
  assert.equal(json.code, 1);
  assert.equal(report.ok, false);
  const damaged = report.files.filter((file) => file.status === 'damaged');
  assert.deepEqual(damaged.map((file) => file.file), [victim.file]);
  assert.equal(typeof damaged[0]!.offset, 'number');
  assert.ok(damaged[0]!.offset! <= victim.bytes);
  assert.equal(report.files.find((file) => file.file === segments[1]!.file)?.status, 'ok', 'the other segment is still reported sound');
});

test('verify catches a flipped byte in a log record: exit 1, the log file and the record offset', async () => {
  const dir = await fixture('wal-damage');
  const walFiles = readdirSync(join(dir, 'wal')).sort();
  const newest = walFiles.at(-1)!;
  flipByte(join(dir, 'wal', newest), RECORD_HEADER_BYTES + 2);
  const result = await runSilt(['verify', dir, '--json']);
  assert.equal(result.code, 1, result.stdout);
  const report = JSON.parse(result.stdout) as VerifyReport;
  const damaged = report.files.filter((file) => file.status === 'damaged');
  assert.deepEqual(damaged.map((file) => [file.file, file.offset]), [[`wal/${newest}`, 0]]);
  assert.match(damaged[0]!.detail ?? '', /damage, not a torn write/);
});

test('a segment file cut short is damage: its size and the size the manifest recorded', async () => {
  const dir = await fixture('short-segment');
  const { segments } = JSON.parse((await runSilt(['stats', dir, '--json'])).stdout) as StatsReport;
  writeFileSync(join(dir, segments[1]!.file), 'short');
  const result = await runSilt(['verify', dir]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, new RegExp(`DAMAGED\\s+${segments[1]!.file.replace('.', '\\.')}.*the file is 5 bytes; the manifest recorded ${segments[1]!.bytes}`));
});

test('a live segment file that is gone is damage: exit 1, named as missing', async () => {
  const dir = await fixture('missing-segment');
  const { segments } = JSON.parse((await runSilt(['stats', dir, '--json'])).stdout) as StatsReport;
  const victim = segments[0]!;
  rmSync(join(dir, victim.file));
  const [plain, json] = await Promise.all([runSilt(['verify', dir]), runSilt(['verify', dir, '--json'])]);
  const file = victim.file.replace('.', '\\.');
  assert.equal(plain.code, 1, plain.stdout);
  assert.match(plain.stdout, new RegExp(`DAMAGED\\s+${file}\\s.*the file is missing; the manifest names it as live`));
  assert.match(plain.stderr, new RegExp(`^silt verify: 1 damaged file of \\d+ in .*: ${file}\\n$`));
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as VerifyReport;
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.files.filter((check) => check.status !== 'ok').map((check) => [check.file, check.status, check.detail]),
    [[victim.file, 'damaged', 'the file is missing; the manifest names it as live']],
  );
  assert.equal(report.files.find((check) => check.file === segments[1]!.file)?.status, 'ok', 'the other segment is still checked and sound');
});

test('stats shows what a keepValidPrefix recovery dropped from the log and kept in wal/lost+found', async () => {
  const dir = join(workDirectory('stats-dropped'), 'idx');
  const index = await Index.open(dir);
  await index.set('a', '1');
  await index.close();
  let last = 1;
  for (let record = 0; record < 3; record++) last = await appendToLog(dir, last, [[`late${record}`, 'value']]);
  damageLogRecord(dir, 1);
  const recovered = await Index.open(dir, { walRecovery: 'keepValidPrefix' });
  await recovered.close();
  const [json, plain] = await Promise.all([runSilt(['stats', dir, '--json']), runSilt(['stats', dir])]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as StatsReport;
  assert.ok(report.setAside.droppedFromLog.length > 0, json.stdout);
  assert.ok(report.setAside.droppedFromLog.every((file) => file.name.startsWith('wal/lost+found/') && file.bytes > 0));
  assert.match(plain.stdout, /DROPPED .* wal\/lost\+found/);
});

test("verify catches a flipped byte in a middle record of the newest log file, with valid records after it, in 'write' mode: exit 1, not a torn tail", async () => {
  const dir = join(workDirectory('wal-middle-damage'), 'idx');
  const index = await Index.open(dir);
  try {
    await index.set('early', 'value');
  } finally {
    await index.close();
  }
  let last = 1;
  for (let record = 0; record < 5; record++) last = await appendToLog(dir, last, [[`late${record}`, `value ${record}`]]);
  // The third record of the newest file: at least three intact records follow it.
  const damage = damageLogRecord(dir, 2);
  const result = await runSilt(['verify', dir, '--json']);
  assert.equal(result.code, 1, result.stdout);
  const report = JSON.parse(result.stdout) as VerifyReport;
  assert.equal(report.ok, false);
  const damaged = report.files.filter((file) => file.status === 'damaged');
  assert.deepEqual(damaged.map((file) => [file.file, file.offset]), [[`wal/${damage.file.split('/').at(-1)!}`, damage.offset]]);
  assert.equal(report.files.filter((file) => file.status === 'torn').length, 0, 'damage with intact records after it is never a torn tail');
});
