import { repairIndex, type RepairReport } from 'silt';
import { printJson, type CommandContext } from '../support/command-context.js';
import { ExitCode } from '../support/errors.js';
import { formatCount, plural } from '../support/formatting.js';
import { withBytesProgress } from '../support/progress.js';

export interface RepairFlags {
  readonly dryRun?: boolean;
}

/**
 * `silt repair <dir> [--dry-run]`: rebuilds the manifest from the segment
 * files and the log (see `repairIndex`). Exit 0 when everything any file
 * held was recovered, 1 when some sequence numbers could not be (the
 * report says which, and lost+found keeps the files).
 */
export async function runRepair(directory: string, flags: RepairFlags, context: CommandContext): Promise<number> {
  const title = flags.dryRun === true ? 'checking every file (dry run)' : 'checking every file';
  const report = await withBytesProgress(context, title, (show) =>
    repairIndex(directory, { dryRun: flags.dryRun === true, onProgress: show }),
  );
  if (context.json) await printJson(context, report);
  else for (const line of plainReport(report)) await context.out.line(line);
  return report.lost.length === 0 ? ExitCode.ok : ExitCode.failure;
}

function plainReport(report: RepairReport): string[] {
  const verb = report.dryRun ? 'would' : 'did';
  const lines = [
    `repair ${report.directory}${report.dryRun ? ' (dry run: nothing was written)' : `: generation ${report.generation}`}`,
    `  segments kept: ${report.segments.length === 0 ? 'none' : report.segments.map((segment) => `${segment.file} (${segment.minSequence}–${segment.maxSequence}, ${plural(segment.entries, 'entry', 'entries')})`).join(', ')}`,
    `  built from the log: ${report.logSegments.length === 0 ? 'nothing (the segments hold every intact record)' : report.logSegments.map((segment) => `${segment.file} (${formatCount(segment.minSequence)}–${formatCount(segment.maxSequence)}, ${plural(segment.records, 'record')})`).join(', ')}`,
    `  recovered: every write up to sequence ${formatCount(report.recoveredTo)} of ${formatCount(report.lastKnownSequence)} any file held${report.lost.length === 0 ? '' : ', except:'}`,
    ...report.lost.map((range) => `    LOST ${formatCount(range.from)}–${formatCount(range.to)}: ${range.why}`),
  ];
  if (report.setAside.length === 0) lines.push(`  set aside: nothing`);
  else {
    lines.push(`  set aside in ${report.lostFound}/ (${verb === 'would' ? 'would be moved' : 'moved'}, never deleted):`);
    for (const entry of report.setAside) lines.push(`    ${entry.file}: ${entry.why}`);
  }
  return lines;
}
