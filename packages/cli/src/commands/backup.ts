import { backup, type BackupReport } from 'silt';
import { ExitCode } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { requireIndex } from '../support/index-access.js';
import { withBytesProgress } from '../support/progress.js';
import { formatBytes, formatDuration, plural } from '../support/formatting.js';

/**
 * `silt backup <dir> <dest>`: `backup()`, a consistent copy of the index
 * beside a running writer, with a progress bar. `dest` must not exist or be
 * empty; Ctrl-C stops it and leaves no `dest`.
 */
export async function runBackup(directory: string, destination: string, context: CommandContext): Promise<number> {
  requireIndex(directory);
  const startedAt = performance.now();
  const report = await withBytesProgress(context, 'backing up', (show) =>
    backup(directory, destination, {
      onProgress: (doneBytes, totalBytes) => {
        show(doneBytes, totalBytes);
        context.interrupts.throwIfInterrupted(`no backup was written to ${destination}`);
      },
    }),
  );
  const durationMs = Math.round(performance.now() - startedAt);
  if (context.json) await printJson(context, { ...report, durationMs });
  else await context.out.line(describeBackup(report, durationMs));
  return ExitCode.ok;
}

function describeBackup(report: BackupReport, durationMs: number): string {
  const linked =
    report.linkedSegments === 0
      ? 'copied'
      : report.linkedSegments === report.segments
        ? 'hard-linked'
        : `${report.linkedSegments} hard-linked`;
  return (
    `backed up ${report.directory} to ${report.destination}: generation ${report.generation} ` +
    `(${plural(report.segments, 'segment')}, ${linked}) and ${plural(report.logFiles, 'log file')} up to sequence ${report.sequence}, ` +
    `${formatBytes(report.bytes)} in ${formatDuration(durationMs)}`
  );
}
