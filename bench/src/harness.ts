import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * The shared bench harness: every suite measures silt and its peers (or the
 * physical limit) on the same workload in the same run, several rounds each,
 * and reports medians and ratios. The machine is shared and noisy, so a
 * single figure is never quoted.
 */

export interface BenchRow {
  /** What was done, identical for every engine on the same workload. */
  readonly workload: string;
  /** `silt (memory)`, `lmdb-js`, `raw writeSync+fdatasync`, ... */
  readonly engine: string;
  /** How durable each acknowledged operation was, so comparisons stay honest. */
  readonly durability: string;
  /** Unit of `runs`: `ops/s`, `MB/s`, `bytes`, ... higher is better unless `lowerIsBetter`. */
  readonly unit: string;
  readonly runs: readonly number[];
  /** The engine on the same workload to divide by; omitted for the reference row itself. */
  readonly ratioTo?: string;
  readonly lowerIsBetter?: boolean;
  /** A physical limit or a baseline (a raw loop, reading the inputs, a bare process): measured beside the engines, never a peer. */
  readonly reference?: boolean;
}

export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

export interface BenchContext {
  readonly rounds: number;
  /** A fresh directory on the disk the bench runs on; removed after the suite. */
  scratch(label: string): string;
  log(message: string): void;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `once` `rounds` times and returns each round's result. */
export async function rounds(count: number, once: (round: number) => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let round = 0; round < count; round++) results.push(await once(round));
  return results;
}

/** Times `body` and returns operations per second for `operations` operations. */
export async function opsPerSecond(operations: number, body: () => Promise<void> | void): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return operations / seconds;
}

export function ratioOf(row: BenchRow, rows: readonly BenchRow[]): number | undefined {
  if (row.ratioTo === undefined) return undefined;
  const reference = rows.find((other) => other.workload === row.workload && other.engine === row.ratioTo);
  if (reference === undefined) return undefined;
  const mine = median(row.runs);
  const theirs = median(reference.runs);
  return row.lowerIsBetter === true ? theirs / mine : mine / theirs;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (Math.abs(value) >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(2);
}

/** One markdown table: median per engine and its ratio to the reference on the same workload. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = ['| workload | engine | durability | median | unit | ratio | runs |', '|---|---|---|---:|---|---:|---:|'];
  for (const row of rows) {
    const ratio = ratioOf(row, rows);
    const ratioText = ratio === undefined ? '' : `${ratio.toFixed(2)}× ${row.ratioTo}`;
    lines.push(
      `| ${row.workload} | ${row.engine} | ${row.durability} | ${formatNumber(median(row.runs))} | ${row.unit} | ${ratioText} | ${row.runs.length} |`,
    );
  }
  return lines.join('\n');
}

export function createContext(suite: string, roundCount: number): { context: BenchContext; cleanup(): void } {
  const root = mkdtempSync(join(process.env.SILT_BENCH_DIR ?? tmpdir(), `silt-bench-${suite}-`));
  let n = 0;
  const context: BenchContext = {
    rounds: roundCount,
    scratch(label: string): string {
      const dir = join(root, `${label}-${n++}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    log(message: string): void {
      process.stderr.write(`[${suite}] ${message}\n`);
    },
  };
  return { context, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function writeResults(directory: string, suite: string, rows: readonly BenchRow[]): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${suite}.json`);
  const body = {
    suite,
    date: new Date().toISOString(),
    node: process.version,
    rows: rows.map((row) => ({ ...row, median: median(row.runs), ratio: ratioOf(row, rows) ?? null })),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
