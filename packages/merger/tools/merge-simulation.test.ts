import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@silt/fs';
import { DEFAULT_MERGE_POLICY } from '@silt/merger';
import { simulateMerges, type MergeSimulationOptions } from './merge-simulation.js';
import { renderSimulationSvg } from './merge-simulation-chart.js';

/** 300 flushes of about 1,000 writes: small enough for CI, long enough for several tiers. */
const SMALL: Partial<MergeSimulationOptions> = { writes: 300_000, flushEntries: 1_000, keySpace: 200_000 };

test('a simulation is the same for the same seed and differs for another', () => {
  const first = simulateMerges({ ...SMALL, seed: 7 });
  assert.deepEqual(simulateMerges({ ...SMALL, seed: 7 }), first);
  assert.notDeepEqual(simulateMerges({ ...SMALL, seed: 8 }).summary, first.summary);
});

test('every write is flushed once, merges add to it, and write amplification is at least 1', () => {
  for (const mergeThreads of [1, 2]) {
    const { summary, merges } = simulateMerges({ ...SMALL, mergeThreads });
    assert.equal(summary.writes, SMALL.writes);
    assert.ok(summary.merges > 10, `${summary.merges} merges`);
    assert.equal(summary.merges, merges.length);
    assert.equal(
      summary.bytesMerged,
      merges.reduce((sum, merge) => sum + merge.bytesWritten, 0),
    );
    assert.ok(summary.writeAmplification >= 1);
    assert.equal(summary.writeAmplification, (summary.bytesFlushed + summary.bytesMerged) / summary.bytesFlushed);
  }
});

test('overwrites and deletes make merged data smaller than what was flushed', () => {
  const { summary } = simulateMerges({ ...SMALL, keySpace: 50_000 });
  assert.ok(summary.finalBytes < summary.bytesFlushed / 2, `${summary.finalBytes} of ${summary.bytesFlushed}`);
});

test('the segment count stays under the cap, and two merge threads keep it under the target plus a flush or two', () => {
  const one = simulateMerges({ ...SMALL, mergeThreads: 1 });
  assert.ok(one.summary.maxSegments < DEFAULT_MERGE_POLICY.segmentCap, `max ${one.summary.maxSegments}`);
  assert.equal(one.summary.stalledSeconds, 0);
  const two = simulateMerges({ ...SMALL, mergeThreads: 2 });
  assert.ok(two.summary.maxSegments <= DEFAULT_MERGE_POLICY.segmentCap / 2 + 2, `max ${two.summary.maxSegments}`);
  assert.ok(two.summary.meanSegments <= one.summary.meanSegments);
});

test('writers pause at the cap when merges are far too slow, and the run still ends with every write flushed', () => {
  const { summary } = simulateMerges({ ...SMALL, mergeBytesPerSecond: 20_000, policy: { ...DEFAULT_MERGE_POLICY, segmentCap: 8 } });
  assert.ok(summary.stalledSeconds > 0);
  assert.ok(summary.maxSegments <= 8);
  assert.equal(summary.writes, SMALL.writes);
});

test('merges never overlap in the writes they cover while running at the same time', () => {
  const { merges } = simulateMerges({ ...SMALL, mergeThreads: 2, mergeBytesPerSecond: 2_000_000 });
  for (const a of merges) {
    for (const b of merges) {
      const concurrent = a !== b && a.startSeconds < b.endSeconds && b.startSeconds < a.endSeconds;
      if (concurrent) assert.ok(a.maxSequence < b.minSequence || b.maxSequence < a.minSequence);
    }
  }
});

test('nonsense simulation options are refused with a ValidationError', () => {
  for (const bad of [
    { writes: 0 },
    { writesPerSecond: -1 },
    { deleteShare: 1 },
    { mergeThreads: 0 },
    { flushEntries: 0.5 },
    { policy: { ...DEFAULT_MERGE_POLICY, sizeRatio: 0 } },
  ]) {
    assert.throws(() => simulateMerges({ ...SMALL, ...bad }), ValidationError);
  }
});

test('the picture draws one box per merge and the count line', () => {
  const result = simulateMerges(SMALL);
  const svg = renderSimulationSvg(result);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal(svg.match(/<rect [^>]*stroke-width="0.5"\/>/g)?.length, result.merges.length);
  assert.match(svg, /<path d="M/);
  assert.match(svg, /write amplification \d+\.\d\d/);
});

test('the simulate command prints the table, draws the SVG, and refuses a bad flag with exit code 2', () => {
  const command = fileURLToPath(new URL('./bin/simulate.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'silt-simulate-'));
  try {
    const svgPath = join(dir, 'run.svg');
    const output = execFileSync(
      process.execPath,
      [command, '--writes', '200000', '--flush-entries', '2000', '--merge-threads', '2', '--svg', svgPath],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    assert.match(output, /\| write amplification \| \d+\.\d\d/);
    assert.match(output, /\| merging \| 2 thread/);
    assert.match(readFileSync(svgPath, 'utf8'), /^<svg/);
    const bad = spawnSync(process.execPath, [command, '--writes', 'many'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /writes must be an integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
