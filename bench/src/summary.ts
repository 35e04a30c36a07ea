import { formatNumber, median, type BenchRow } from './harness.js';

/** One workload: silt's best engine against the best peer (lmdb-js, classic-level, better-sqlite3, ...) in the same unit. */
export interface SummaryRow {
  readonly workload: string;
  readonly unit: string;
  readonly silt: { readonly engine: string; readonly durability: string; readonly median: number };
  readonly peer: { readonly engine: string; readonly durability: string; readonly median: number };
  /** Above 1: silt is better (faster, or lower where lower is better). */
  readonly ratio: number;
}

const isSilt = (row: BenchRow): boolean => row.engine.startsWith('silt');

/**
 * The rows where silt and a peer engine ran the same workload in the same
 * unit: the best of each, and silt's ratio to the best peer. Rows of silt
 * alone (segments, latencies against itself) have no peer and are left out.
 */
export function summarize(rows: readonly BenchRow[]): SummaryRow[] {
  const byWorkload = new Map<string, BenchRow[]>();
  for (const row of rows) {
    const key = `${row.workload}\u0000${row.unit}`;
    const group = byWorkload.get(key);
    if (group === undefined) byWorkload.set(key, [row]);
    else group.push(row);
  }
  const summary: SummaryRow[] = [];
  for (const group of byWorkload.values()) {
    const lowerIsBetter = group.some((row) => row.lowerIsBetter === true);
    const best = (candidates: BenchRow[]): BenchRow | undefined =>
      candidates.reduce<BenchRow | undefined>((winner, row) => {
        if (winner === undefined) return row;
        const better = lowerIsBetter ? median(row.runs) < median(winner.runs) : median(row.runs) > median(winner.runs);
        return better ? row : winner;
      }, undefined);
    const silt = best(group.filter(isSilt));
    const peer = best(group.filter((row) => !isSilt(row) && row.reference !== true));
    if (silt === undefined || peer === undefined) continue;
    const ratio = lowerIsBetter ? median(peer.runs) / median(silt.runs) : median(silt.runs) / median(peer.runs);
    const side = (row: BenchRow) => ({ engine: row.engine, durability: row.durability, median: median(row.runs) });
    summary.push({ workload: silt.workload, unit: silt.unit, silt: side(silt), peer: side(peer), ratio });
  }
  return summary;
}

export function summaryTable(summary: readonly SummaryRow[]): string {
  const lines = ['| workload | silt (best) | median | best peer | median | unit | silt ÷ peer |', '|---|---|---:|---|---:|---|---:|'];
  for (const row of summary) {
    lines.push(
      `| ${row.workload} | ${row.silt.engine} | ${formatNumber(row.silt.median)} | ${row.peer.engine} | ${formatNumber(row.peer.median)} | ${row.unit} | ${row.ratio.toFixed(2)}× |`,
    );
  }
  return lines.join('\n');
}
