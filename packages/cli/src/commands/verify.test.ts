import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index, type VerifyReport } from 'silt';
import type { StatsReport } from './stats.js';
import { runSilt } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';

/** No flush timer and no merges: the index changes only when a test says so. */
const STILL = { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 } as const;

/**
 * Two segments, each made by an explicit flush, and a log whose newest
 * file holds several records (the segments cover them; the log keeps
 * them until a later flush truncates it).
 */
async function fixture(label: string): Promise<string> {
  const dir = join(tempDir(label), 'idx');
  const index = await Index.open(dir, { ...STILL, durability: 'fsync' });
  try {
    await index.mset(Array.from({ length: 2000 }, (_, i) => [`key:${i}`, `value ${i}`] as [string, string]));
    await index.flush();
    for (let i = 0; i < 5; i++) await index.set(`late:${i}`, `value ${i}`);
    await index.flush();
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
  const index = await Index.open(dir, STILL);
  try {
    const [json, plain] = await Promise.all([runSilt(['stats', dir, '--json', '--count']), runSilt(['stats', dir])]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatsReport;
    assert.equal(report.generation, index.stats().generation);
    assert.deepEqual(
      report.segments.map((segment) => segment.id),
      index.stats().segments.map((segment) => segment.id),
    );
    assert.equal(report.entries, 2005);
    assert.equal(report.keys, 2005);
    assert.ok(report.wal.files.length >= 1 && report.wal.bytes > 0);
    assert.deepEqual(report.writer, { pid: process.pid, running: true });
    assert.match(plain.stdout, new RegExp(`writer      pid ${process.pid}, running`));
    assert.match(plain.stdout, /segments {4}2, .*2,005 entries \(0 tombstones\)/);
  } finally {
    await index.close();
  }
});

test('verify passes a sound index, also while a writer has it open', async () => {
  const dir = await fixture('sound');
  const index = await Index.open(dir, STILL);
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
  assert.match(
    plain.stderr,
    new RegExp(`^silt verify: 1 damaged file of \\d+ in .*: ${victim.file.replace('.', '\\.')} at offset \\d+\\n$`),
  );
  const report = JSON.parse(json.stdout) as VerifyReport;
  assert.equal(json.code, 1);
  assert.equal(report.ok, false);
  const damaged = report.files.filter((file) => file.status === 'damaged');
  assert.deepEqual(
    damaged.map((file) => file.file),
    [victim.file],
  );
  assert.equal(typeof damaged[0]!.offset, 'number');
  assert.ok(damaged[0]!.offset! <= victim.bytes);
  assert.equal(report.files.find((file) => file.file === segments[1]!.file)?.status, 'ok', 'the other segment is still reported sound');
});

test('a segment file cut short is damage: its size and the size the manifest recorded', async () => {
  const dir = await fixture('short-segment');
  const { segments } = JSON.parse((await runSilt(['stats', dir, '--json'])).stdout) as StatsReport;
  writeFileSync(join(dir, segments[1]!.file), 'short');
  const result = await runSilt(['verify', dir]);
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    new RegExp(`DAMAGED\\s+${segments[1]!.file.replace('.', '\\.')}.*the file is 5 bytes; the manifest recorded ${segments[1]!.bytes}`),
  );
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
  assert.equal(
    report.files.find((check) => check.file === segments[1]!.file)?.status,
    'ok',
    'the other segment is still checked and sound',
  );
});

test('verify catches sequence numbers missing from the log: a middle log file emptied is exit 1, naming the file after the gap and the numbers', async () => {
  const dir = join(tempDir('log-gap'), 'idx');
  const index = await Index.open(dir, { ...STILL, walFileBytes: 1024 * 1024 });
  try {
    const value = 'x'.repeat(10_000);
    for (let batch = 0; batch < 12; batch++) await index.mset(Array.from({ length: 50 }, (_, i) => [`key:${batch}:${i}`, value]));
  } finally {
    await index.close(); // more than 4 MiB unflushed: close leaves it all in the log, no segment covers it
  }
  const logs = readdirSync(join(dir, 'wal'))
    .filter((name) => name.endsWith('.log'))
    .sort();
  assert.ok(logs.length >= 4, `${logs.length} log files`);
  const [, victim = '', next = ''] = logs;
  truncateSync(join(dir, 'wal', victim), 0);
  const [plain, json] = await Promise.all([runSilt(['verify', dir]), runSilt(['verify', dir, '--json'])]);
  assert.equal(plain.code, 1, plain.stdout);
  const missing = `sequence numbers ${Number.parseInt(victim, 10)}–${Number.parseInt(next, 10) - 1} are missing`;
  assert.match(plain.stdout, new RegExp(`DAMAGED\\s+wal/${next.replace('.', '\\.')}\\s.*${missing}`));
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as VerifyReport;
  assert.deepEqual(
    report.files.filter((file) => file.status === 'damaged').map((file) => file.file),
    [`wal/${next}`],
  );
});

test('stats lists the files recovery and repair set aside, kept for the operator to look at', async () => {
  const dir = await fixture('stats-set-aside');
  // What a keepValidPrefix recovery and a repair leave: silt stats names what is there, whoever put it there.
  mkdirSync(join(dir, 'wal', 'lost+found'));
  writeFileSync(join(dir, 'wal', 'lost+found', '0000000000000001.log'), 'dropped bytes');
  mkdirSync(join(dir, 'lost+found', 'repair-2026-12-03T16-46-44-437Z'), { recursive: true });
  const [json, plain] = await Promise.all([runSilt(['stats', dir, '--json']), runSilt(['stats', dir])]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as StatsReport;
  assert.deepEqual(report.setAside, {
    droppedFromLog: [{ name: 'wal/lost+found/0000000000000001.log', bytes: 13 }],
    repairs: ['lost+found/repair-2026-12-03T16-46-44-437Z'],
  });
  assert.match(plain.stdout, /DROPPED +1 file \(13 B\) cut from the log by a keepValidPrefix recovery, kept in wal\/lost\+found\//);
  assert.match(plain.stdout, /repairs +1: files set aside in lost\+found\/repair-2026-12-03T16-46-44-437Z/);
});
