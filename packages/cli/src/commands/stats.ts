import { inspectIndex, type InspectedLogFile, type SegmentRecord, type SetAsideFiles, type WriterRecord } from 'silt';
import { ExitCode } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { openReader, requireIndex } from '../support/index-access.js';
import { formatBytes, formatCount, formatDuration, plural, textTable } from '../support/formatting.js';

/** Segment rows shown in plain output; `--json` lists them all. */
const SHOWN_SEGMENTS = 20;

export interface StatsFlags {
  /** Also count the live keys, reading every entry. */
  readonly count?: boolean;
}

/** What `silt stats --json` prints. */
export interface StatsReport {
  readonly directory: string;
  readonly generation: number;
  readonly committedAt: string;
  /** Every log record up to this sequence number is in a segment. */
  readonly walCoveredSequence: number;
  readonly segments: ReadonlyArray<{
    readonly id: number;
    readonly file: string;
    readonly bytes: number;
    readonly entries: number;
    readonly tombstones: number;
    readonly minSequence: number;
    readonly maxSequence: number;
    readonly addedGeneration: number;
  }>;
  readonly segmentBytes: number;
  /** Puts and tombstones summed over segments: a key overwritten after a flush counts once per segment holding it. */
  readonly entries: number;
  readonly tombstones: number;
  /** Live keys, with `--count` only. */
  readonly keys?: number;
  readonly wal: { readonly files: readonly InspectedLogFile[]; readonly bytes: number };
  /** The process `writer.pid` names; `running: false` means it died and its lock is free. */
  readonly writer: WriterRecord | null;
  /** What recovery (`keepValidPrefix`) dropped from the log and `silt repair` did not use: moved aside, never deleted. */
  readonly setAside: SetAsideFiles;
  /** Reader leases of live processes. */
  readonly readers: ReadonlyArray<{ readonly pid: number; readonly generation: number; readonly since: string }>;
}

/** `silt stats <dir>`: the current generation, its segments, the log, the writer and the readers. Takes no lock. */
export async function runStats(directory: string, flags: StatsFlags, context: CommandContext): Promise<number> {
  requireIndex(directory);
  const report = await statsReport(directory, flags.count === true, context);
  if (context.json) await printJson(context, report);
  else for (const line of plainStats(report)) await context.out.line(line);
  return ExitCode.ok;
}

async function statsReport(directory: string, countKeys: boolean, context: CommandContext): Promise<StatsReport> {
  const inspection = await inspectIndex(directory);
  const segments = inspection.segments.map(segmentRow);
  return {
    directory,
    generation: inspection.generation,
    committedAt: new Date(inspection.committedAt).toISOString(),
    walCoveredSequence: inspection.walCoveredSequence,
    segments,
    segmentBytes: sum(segments.map((segment) => segment.bytes)),
    entries: sum(segments.map((segment) => segment.entries)),
    tombstones: sum(segments.map((segment) => segment.tombstones)),
    ...(countKeys ? { keys: await countLiveKeys(directory, context) } : {}),
    wal: { files: inspection.wal, bytes: sum(inspection.wal.map((file) => file.bytes)) },
    writer: inspection.writer ?? null,
    setAside: inspection.setAside,
    readers: inspection.readers.map((lease) => ({
      pid: lease.pid,
      generation: lease.generation,
      since: new Date(lease.since).toISOString(),
    })),
  };
}

function segmentRow(segment: SegmentRecord): StatsReport['segments'][number] {
  const { id, file, bytes, entries, tombstones, minSequence, maxSequence, addedGeneration } = segment;
  return { id, file, bytes, entries, tombstones, minSequence, maxSequence, addedGeneration };
}

async function countLiveKeys(directory: string, context: CommandContext): Promise<number> {
  const reader = await openReader(directory, { keyEncoding: 'binary' });
  try {
    let keys = 0;
    for (const _entry of reader.range()) {
      keys++;
      if (keys % 65536 === 0) context.interrupts.throwIfInterrupted(`counted ${formatCount(keys)} keys so far`);
    }
    return keys;
  } finally {
    await reader.close();
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function plainStats(report: StatsReport): string[] {
  const age = formatDuration(Math.max(0, Date.now() - Date.parse(report.committedAt)));
  const lines = [
    report.directory,
    `  generation  ${report.generation}, committed ${report.committedAt} (${age} ago)`,
    `  segments    ${formatCount(report.segments.length)}, ${formatBytes(report.segmentBytes)}, ${plural(report.entries, 'entry', 'entries')} (${plural(report.tombstones, 'tombstone')})`,
  ];
  if (report.keys !== undefined) lines.push(`  keys        ${formatCount(report.keys)} live`);
  lines.push(...segmentTable(report.segments).map((line) => `              ${line}`));
  const covered =
    report.walCoveredSequence === 0
      ? 'nothing flushed yet'
      : `segments cover it through sequence ${formatCount(report.walCoveredSequence)}`;
  lines.push(`  log (wal/)  ${plural(report.wal.files.length, 'file')}, ${formatBytes(report.wal.bytes)}; ${covered}`);
  lines.push(...describeSetAside(report.setAside));
  lines.push(`  writer      ${describeWriter(report.writer)}`);
  const pids = report.readers.map((reader) => reader.pid).join(', ');
  lines.push(`  readers     ${report.readers.length === 0 ? 'none' : `${report.readers.length} (pid ${pids})`}`);
  return lines;
}

function segmentTable(segments: StatsReport['segments']): string[] {
  if (segments.length === 0) return [];
  const rows = segments
    .slice(0, SHOWN_SEGMENTS)
    .map((segment) => [
      String(segment.id),
      formatCount(segment.entries),
      formatCount(segment.tombstones),
      formatBytes(segment.bytes),
      `${formatCount(segment.minSequence)}–${formatCount(segment.maxSequence)}`,
    ]);
  const table = textTable(['id', 'entries', 'tombstones', 'size', 'sequences'], rows, new Set([0, 1, 2, 3]));
  if (segments.length > SHOWN_SEGMENTS) table.push(`… and ${plural(segments.length - SHOWN_SEGMENTS, 'more segment')} (--json lists all)`);
  return table;
}

function describeSetAside(setAside: SetAsideFiles): string[] {
  const lines: string[] = [];
  if (setAside.droppedFromLog.length > 0) {
    const bytes = sum(setAside.droppedFromLog.map((file) => file.bytes));
    lines.push(
      `  DROPPED     ${plural(setAside.droppedFromLog.length, 'file')} (${formatBytes(bytes)}) cut from the log by a keepValidPrefix recovery, kept in wal/lost+found/`,
    );
  }
  if (setAside.repairs.length > 0)
    lines.push(`  repairs     ${setAside.repairs.length}: files set aside in ${setAside.repairs.join(', ')}`);
  return lines;
}

function describeWriter(writer: WriterRecord | null): string {
  if (writer === null) return 'none';
  return writer.running ? `pid ${writer.pid}, running` : `none (pid ${writer.pid} died; its lock is free)`;
}
