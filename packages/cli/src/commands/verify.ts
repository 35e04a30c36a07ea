import { verifyIndex, type FileCheck, type VerifyReport } from 'silt';
import { ExitCode } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { requireIndex } from '../support/index-access.js';
import { withBytesProgress } from '../support/progress.js';
import { formatBytes, formatCount, plural, textTable } from '../support/formatting.js';

/**
 * `silt verify <dir>`: `verifyIndex`, every checksum of every live segment
 * and of every write-ahead log file, beside a running writer, with a
 * progress bar and a report. Exit 1 and a report naming file and offset
 * on damage.
 */
export async function runVerify(directory: string, context: CommandContext): Promise<number> {
  requireIndex(directory);
  const report = await withBytesProgress(context, 'verifying', (show) =>
    verifyIndex(directory, {
      onProgress: (checkedBytes, totalBytes, checkedFiles) => {
        show(checkedBytes, totalBytes);
        if (checkedBytes < totalBytes) context.interrupts.throwIfInterrupted(`${plural(checkedFiles, 'file')} checked, the rest not`);
      },
    }),
  );
  if (context.json) await printJson(context, report);
  else for (const line of plainReport(report)) await context.out.line(line);
  if (!report.ok) context.stderr.write(`silt verify: ${damageSummary(report)}\n`);
  return report.ok ? ExitCode.ok : ExitCode.failure;
}

function plainReport(report: VerifyReport): string[] {
  const segments = report.files.filter((file) => file.kind === 'segment').length;
  const rows = report.files.map((file) => [
    file.status === 'damaged' ? 'DAMAGED' : file.status,
    file.file,
    formatBytes(file.bytes),
    file.entries !== undefined
      ? plural(file.entries, 'entry', 'entries')
      : file.records !== undefined
        ? plural(file.records, 'record')
        : '',
    problemOf(file),
  ]);
  const verdict = report.ok
    ? `ok: every checksum of ${plural(report.files.length, 'file')} verified (${formatBytes(report.files.reduce((sum, file) => sum + file.bytes, 0))})`
    : `DAMAGED: ${damageSummary(report)}`;
  return [
    `verify ${report.directory}: generation ${report.generation}, ${plural(segments, 'segment')}, ${plural(report.files.length - segments, 'log file')}`,
    ...textTable(['status', 'file', 'size', 'contents', 'problem'], rows, new Set([2])).map((line) => `  ${line}`),
    verdict,
  ];
}

function problemOf(file: FileCheck): string {
  if (file.status === 'ok') return '';
  const where = file.offset === undefined ? '' : `at offset ${formatCount(file.offset)}: `;
  const note = file.status === 'torn' ? ' (an unfinished write a crash left; the writer cuts it off when it next opens)' : '';
  return `${where}${file.detail ?? ''}${note}`;
}

function damageSummary(report: VerifyReport): string {
  const damaged = report.files.filter((file) => file.status === 'damaged');
  const where = damaged.map((file) => `${file.file}${file.offset === undefined ? '' : ` at offset ${file.offset}`}`).join(', ');
  return `${plural(damaged.length, 'damaged file')} of ${report.files.length} in ${report.directory}: ${where}`;
}
