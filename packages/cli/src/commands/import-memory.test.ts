import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SILT } from '../test-support/silt-process.js';
import { tempDir } from '@silt/test-support';

/**
 * `silt import` streams: its memory does not grow with its input. Each
 * import runs in a child process fed through standard input by a generator
 * (so no file is held anywhere), with a V8 heap limit the records of the
 * large import alone could not fit in (1 M records of ~110 bytes are well
 * over 128 MB as strings and arrays), and reports its peak resident memory
 * (worker threads included) when it exits. Sizes, not times, are compared.
 */

const HEAP_LIMIT_MB = 128;
/** What the large import may take beyond the small one: the writer's working set is bounded, the input is not held. */
const RSS_GROWTH_BOUND_MB = 256;

function* jsonLines(count: number): Generator<string> {
  const batch: string[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(JSON.stringify({ key: `user:${String((i * 7919) % 1_000_003).padStart(10, '0')}`, value: `${i}:${'x'.repeat(90)}` }));
    if (batch.length === 1000 || i === count - 1) {
      yield `${batch.join('\n')}\n`;
      batch.length = 0;
    }
  }
}

/** Imports `count` generated records through standard input; resolves with the child's peak RSS in MB. */
async function importedPeakRss(work: string, count: number): Promise<number> {
  const reporter = join(work, 'peak-rss.mjs');
  writeFileSync(reporter, "process.on('exit', () => process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\\n`));\n");
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--import', reporter, SILT, 'import', join(work, `idx-${count}`), '-', '--json'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'close');
  await pipeline(Readable.from(jsonLines(count)), child.stdin);
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, stderr);
  assert.equal((JSON.parse(stdout) as { imported: number }).imported, count);
  const peak = /peak-rss-kb (\d+)/.exec(stderr);
  assert.ok(peak !== null, stderr);
  return Number(peak[1]) / 1024;
}

test('the memory of an import does not grow with its input: 1 M records fit a 128 MB heap, and take little more than 200 k', async (t) => {
  const work = tempDir('import-memory');
  const small = await importedPeakRss(work, 200_000);
  const large = await importedPeakRss(work, 1_000_000);
  t.diagnostic(`peak RSS: ${Math.round(small)} MB for 200 k records, ${Math.round(large)} MB for 1 M`);
  assert.ok(
    large - small < RSS_GROWTH_BOUND_MB,
    `peak RSS ${Math.round(small)} MB for 200 k records, ${Math.round(large)} MB for 1 M: more than ${RSS_GROWTH_BOUND_MB} MB apart`,
  );
});
