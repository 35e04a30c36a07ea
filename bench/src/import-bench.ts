import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rounds, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';

/**
 * `silt import` of a 1 M-line JSON Lines file (the format `silt export`
 * writes: 16 B keys, 100 B values), run as a user runs it: the CLI in its
 * own process, timed from spawn to exit (so open, the final flush and the
 * merges it waits for count), with its peak RSS (worker threads included).
 * The peer is classic-level loading the same file in batches of the same
 * size from a process of its own (import-bench-child.ts). The two alternate
 * within each round.
 */

const SILT_CLI = fileURLToPath(new URL('../../packages/cli/dist/bin/silt.js', import.meta.url));
const PEER_CHILD = fileURLToPath(new URL('./import-bench-child.js', import.meta.url));
const RECORDS = Number(process.env.IMPORT_BENCH_RECORDS ?? 1_000_000);
const BATCH = 1_000;
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const WORKLOAD = `import ${(RECORDS / 1e6).toLocaleString('en-US')} M JSON Lines records from a file (${KEY_BYTES} B keys, ${VALUE_BYTES} B values), batches of ${BATCH.toLocaleString('en-US')}, process start to exit`;
const SILT = 'silt import (CLI)';
const PEER = 'classic-level batch() (node script)';

interface Measured {
  readonly recordsPerSecond: number;
  readonly peakRssMb: number;
}

/** Distinct keys from a multiplicative walk (a permutation of 0..p−1), in a random-looking order, so neither engine gets sorted input. */
async function writeRecords(path: string): Promise<void> {
  const out = createWriteStream(path);
  const prime = 1_000_003;
  const lines: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const key = `k${String((i * 7919) % prime).padStart(KEY_BYTES - 1, '0')}`;
    lines.push(JSON.stringify({ key, value: `${i}:`.padEnd(VALUE_BYTES, 'v') }));
    if (lines.length === 10_000 || i === RECORDS - 1) {
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
      lines.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
}

/** Runs `node <args>` with a reporter of its peak RSS; resolves with records/s over the process's whole life. */
async function timedProcess(reporter: string, args: readonly string[]): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', reporter, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${stderr}`);
  const imported = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { imported?: number }).imported;
  if (imported !== RECORDS) throw new Error(`${args.join(' ')} imported ${imported}, not ${RECORDS}: ${stdout}`);
  const peak = /peak-rss-kb (\d+)/.exec(stderr);
  if (peak === null) throw new Error(`no peak RSS from ${args.join(' ')}: ${stderr}`);
  return { recordsPerSecond: RECORDS / seconds, peakRssMb: Number(peak[1]) / 1024 };
}

export const suite: BenchSuite = {
  name: 'import',
  async run(context: BenchContext): Promise<BenchRow[]> {
    if (!existsSync(SILT_CLI)) throw new Error(`${SILT_CLI} is missing: build packages/cli first`);
    const scratch = context.scratch('import');
    const file = join(scratch, 'records.jsonl');
    await writeRecords(file);
    const reporter = join(scratch, 'peak-rss.mjs');
    writeFileSync(reporter, "process.on('exit', () => process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\\n`));\n");
    const silt: Measured[] = [];
    const peer: Measured[] = [];
    await rounds(context.rounds, async (round) => {
      const dir = context.scratch(`round-${round}`);
      silt.push(await timedProcess(reporter, [SILT_CLI, 'import', join(dir, 'silt'), file, '--json', '--batch', String(BATCH)]));
      peer.push(await timedProcess(reporter, [PEER_CHILD, file, join(dir, 'level'), String(BATCH)]));
      const [s, p] = [silt.at(-1)!, peer.at(-1)!];
      context.log(
        `round ${round + 1}: silt ${Math.round(s.recordsPerSecond)} records/s, ${Math.round(s.peakRssMb)} MB; ` +
          `classic-level ${Math.round(p.recordsPerSecond)} records/s, ${Math.round(p.peakRssMb)} MB`,
      );
      return 0;
    });
    const common = { workload: WORKLOAD, durability: 'acknowledged in the log (OS cache)' };
    const rss = { workload: `peak RSS of: ${WORKLOAD}`, durability: common.durability, unit: 'MB', lowerIsBetter: true };
    return [
      { ...common, engine: SILT, unit: 'records/s', runs: silt.map((m) => m.recordsPerSecond), ratioTo: PEER },
      { ...common, engine: PEER, unit: 'records/s', runs: peer.map((m) => m.recordsPerSecond) },
      { ...rss, engine: SILT, runs: silt.map((m) => m.peakRssMb), ratioTo: PEER },
      { ...rss, engine: PEER, runs: peer.map((m) => m.peakRssMb) },
    ];
  },
};
