import type { Generation } from '@silt/segments';
import { ExitCode } from './exit-codes.js';
import { printJson, type CommandContext } from './command-context.js';
import { requireIndex } from './index-directory.js';
import { listWalFiles, withManifest } from './index-files.js';
import { Progress } from './progress.js';
import { checkSegment, checkWal, type FileCheck } from './verify-checks.js';
import { formatBytes, formatCount, plural } from './formatting.js';
import { textTable } from './text-table.js';

/** What `silt verify --json` prints. */
export interface VerifyReport {
  readonly directory: string;
  readonly generation: number;
  readonly ok: boolean;
  readonly damaged: number;
  readonly files: readonly FileCheck[];
}

/**
 * `silt verify <dir>`: every checksum of every live segment and of every
 * write-ahead log file, beside a running writer. It leases the generation it
 * checks, as a reader does, so no merge's collector removes a file under
 * it. Exit 1 and a report naming file and offset on damage.
 */
export async function runVerify(directory: string, context: CommandContext): Promise<number> {
  requireIndex(directory);
  // Before the generation is read: see checkWal.
  const walFiles = listWalFiles(directory);
  const report = await withManifest(directory, async (manifest) => {
    const lease = manifest.takeLease();
    try {
      return await verifyGeneration(directory, manifest.generationAt(lease.generation), walFiles, context);
    } finally {
      manifest.dropLease(lease.id);
    }
  });
  if (context.json) await printJson(context, report);
  else for (const line of plainReport(report)) await context.out.line(line);
  if (!report.ok) context.stderr.write(`silt verify: ${damageSummary(report)}\n`);
  return report.ok ? ExitCode.ok : ExitCode.failure;
}

async function verifyGeneration(directory: string, generation: Generation, walFiles: ReturnType<typeof listWalFiles>, context: CommandContext): Promise<VerifyReport> {
  const totalBytes = generation.segments.reduce((sum, segment) => sum + segment.bytes, 0) + walFiles.reduce((sum, file) => sum + file.bytes, 0);
  const progress = Progress.start(context, { title: 'verifying', total: totalBytes, unit: 'bytes' });
  const files: FileCheck[] = [];
  try {
    for (const segment of generation.segments) {
      context.interrupts.throwIfInterrupted(`${plural(files.length, 'file')} checked, the rest not`);
      files.push(checkSegment(directory, segment));
      progress.increment(segment.bytes);
      // Let a redraw and a Ctrl-C through between files.
      await new Promise((resolve) => setImmediate(resolve));
    }
    files.push(...checkWal(walFiles, generation.walCoveredSequence));
  } catch (error) {
    progress.stop();
    throw error;
  }
  progress.done();
  const damaged = files.filter((file) => file.status === 'damaged').length;
  return { directory, generation: generation.generation, ok: damaged === 0, damaged, files };
}

function plainReport(report: VerifyReport): string[] {
  const segments = report.files.filter((file) => file.kind === 'segment').length;
  const rows = report.files.map((file) => [
    file.status === 'damaged' ? 'DAMAGED' : file.status,
    file.file,
    formatBytes(file.bytes),
    file.entries !== undefined ? plural(file.entries, 'entry', 'entries') : file.records !== undefined ? plural(file.records, 'record') : '',
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
