import { DEFAULT_MAX_VALUE_BYTES, type Key, type Value } from 'silt';
import { ExitCode, ImportLineError } from '../support/errors.js';
import { note, printJson, type CommandContext } from '../support/command-context.js';
import { refuseForeignDirectory } from '../support/index-access.js';
import {
  formatOfFirstLine,
  formatOfName,
  openImportSource,
  readSourceLines,
  type ImportFormat,
  type ImportSource,
} from './import-source.js';
import { BatchWriter } from './import-batches.js';
import { Progress } from '../support/progress.js';
import { parseJsonRecord, parseTsvRecord, RecordError } from '../support/records.js';
import { formatDuration, plural } from '../support/formatting.js';

export interface ImportFlags {
  readonly format?: ImportFormat;
  /** Skip malformed lines (reported) instead of stopping at the first. */
  readonly continue?: boolean;
  /** Records per atomic batch (`mset`). */
  readonly batch: number;
  /** Read and check every line; write nothing. */
  readonly dryRun?: boolean;
}

/** Malformed lines named on standard error or in a message, and kept in the JSON report. */
const NAMED_BAD_LINES = 10;
const REPORTED_BAD_LINES = 1000;

interface BadLine {
  readonly line: number;
  readonly reason: string;
}

type ParseRecord = (text: string, maxValueBytes: number) => readonly [Key, Value];

/** What `silt import --json` prints. */
export interface ImportReport {
  /** Records written (with `--dry-run`: records that would be). */
  readonly imported: number;
  readonly batches: number;
  readonly format: ImportFormat;
  readonly skipped: number;
  /** The first 1,000 skipped lines (with `--continue` or `--dry-run`). */
  readonly skippedLines: readonly BadLine[];
  /** The index's generation after the import; undefined for `--dry-run`. */
  readonly generation: number | undefined;
  readonly durationMs: number;
  readonly dryRun: boolean;
}

/**
 * `silt import <dir> <file|->`: JSON Lines or TSV records, read once as a
 * stream and written in atomic batches (`mset`). A malformed line stops the
 * import: every record before it is written, nothing from it on, and the
 * error names it (README, "silt import"). `--continue` skips such lines and
 * names them; `--dry-run` checks every line and writes nothing.
 */
export async function runImport(directory: string, input: string, flags: ImportFlags, context: CommandContext): Promise<number> {
  const startedAt = performance.now();
  refuseForeignDirectory(directory);
  const source = openImportSource(input, process.stdin);
  const run = new ImportRun(source, flags, context);
  if (flags.dryRun === true) return checkOnly(run, directory, startedAt);
  const writer = new BatchWriter(directory, flags.batch, context);
  let stopped: ImportLineError | undefined;
  try {
    ({ stopped } = await run.readInto(writer));
    await writer.drain();
  } catch (error) {
    await writer.abandon();
    throw error;
  }
  const stats = await writer.finish(stopped === undefined);
  if (stopped !== undefined) throw stoppedAt(stopped, writer);
  const report: ImportReport = {
    imported: writer.imported,
    batches: writer.batches,
    format: run.format,
    skipped: run.skipped,
    skippedLines: run.bad,
    generation: stats?.generation,
    durationMs: Math.round(performance.now() - startedAt),
    dryRun: false,
  };
  if (context.json) await printJson(context, report);
  else await context.out.line(describeImport(directory, source, report));
  return ExitCode.ok;
}

/** `--dry-run`: every line read and parsed, nothing opened or written; exit 1 when a line is malformed (unless `--continue`). */
async function checkOnly(run: ImportRun, directory: string, startedAt: number): Promise<number> {
  const { records } = await run.readInto(undefined);
  const report: ImportReport = {
    imported: records,
    batches: 0,
    format: run.format,
    skipped: run.skipped,
    skippedLines: run.bad,
    generation: undefined,
    durationMs: Math.round(performance.now() - startedAt),
    dryRun: true,
  };
  const { context, source } = run;
  if (context.json) await printJson(context, report);
  else
    await context.out.line(
      `checked ${source.label}: ${plural(records, 'record')} to import into ${directory}` +
        `${report.skipped === 0 ? '' : `, ${plural(report.skipped, 'malformed line')}`} (${report.format}; dry run, nothing written)`,
    );
  const first = run.bad[0];
  if (first === undefined || run.flags.continue === true) return ExitCode.ok;
  const others = run.bad.slice(1, NAMED_BAD_LINES).map((line) => line.line);
  const more =
    run.skipped > 1
      ? `; ${plural(run.skipped - 1, 'more malformed line')} (${others.join(', ')}${run.skipped > NAMED_BAD_LINES ? ', …' : ''})`
      : '';
  // With --json the report on standard output names every malformed line (the first 1,000).
  if (!context.json) context.stderr.write(`silt import: ${source.label}, line ${first.line}: ${first.reason}${more}\n`);
  return ExitCode.failure;
}

/** The parsing side of an import: lines to records, the format, the lines skipped. */
class ImportRun {
  private chosenFormat: ImportFormat;
  private parse: ParseRecord | undefined;
  private readonly guessed: boolean;
  readonly bad: BadLine[] = [];
  private skippedLines = 0;

  constructor(
    readonly source: ImportSource,
    readonly flags: ImportFlags,
    readonly context: CommandContext,
  ) {
    const named = formatOfName(source, flags.format);
    this.guessed = named === undefined;
    this.chosenFormat = named ?? 'jsonl';
    if (named !== undefined) this.parse = parserOf(named);
  }

  /** The format read: given, from the name, or from the first line. */
  get format(): ImportFormat {
    return this.chosenFormat;
  }

  /** Malformed lines skipped (`--continue`) or found (`--dry-run`). */
  get skipped(): number {
    return this.skippedLines;
  }

  /**
   * Reads every line into `writer` (or, without one, only checks it).
   * A malformed line without `--continue` ends the read there, with that
   * line's error in `stopped`, to be thrown once the records before it are
   * written. A signal stops it between batches.
   */
  async readInto(writer: BatchWriter | undefined): Promise<{ records: number; stopped: ImportLineError | undefined }> {
    const checkOnly = writer === undefined;
    const stopAtBadLine = !checkOnly && this.flags.continue !== true;
    const { bytes } = this.source;
    const progress =
      bytes === undefined
        ? undefined
        : Progress.start(this.context, { title: checkOnly ? 'checking' : 'importing', total: bytes, unit: 'bytes' });
    let records = 0;
    try {
      for await (const { texts, numbers, bytesRead } of readSourceLines(this.source)) {
        progress?.update(bytesRead);
        for (let i = 0; i < texts.length; i++) {
          const text = texts[i]!;
          const parse = (this.parse ??= this.chooseFormat(text));
          let pair: readonly [Key, Value];
          try {
            pair = parse(text, DEFAULT_MAX_VALUE_BYTES);
          } catch (error) {
            if (!(error instanceof RecordError)) throw error;
            const line = numbers[i]!;
            if (stopAtBadLine)
              return { records, stopped: new ImportLineError(this.source.label, line, `${error.message}${this.formatHint()}`) };
            this.skip(line, error.message, checkOnly);
            continue;
          }
          records++;
          const full = writer?.add(pair);
          if (full !== undefined) await full;
        }
        if (checkOnly) this.context.interrupts.throwIfInterrupted('nothing was written');
      }
    } finally {
      progress?.stop();
    }
    return { records, stopped: undefined };
  }

  private chooseFormat(firstLine: string): ParseRecord {
    this.chosenFormat = formatOfFirstLine(firstLine);
    return parserOf(this.chosenFormat);
  }

  private formatHint(): string {
    return this.guessed ? ` (read as ${this.format}, guessed from the first line: give --format if that is wrong)` : '';
  }

  private skip(line: number, reason: string, quiet: boolean): void {
    this.skippedLines++;
    if (this.bad.length < REPORTED_BAD_LINES) this.bad.push({ line, reason });
    if (!quiet && this.skippedLines <= NAMED_BAD_LINES)
      note(this.context, `silt import: skipped ${this.source.label}, line ${line}: ${reason}`);
  }
}

function parserOf(format: ImportFormat): ParseRecord {
  return format === 'tsv' ? parseTsvRecord : parseJsonRecord;
}

/** The error for a malformed line, saying what was imported before it. */
function stoppedAt(error: ImportLineError, writer: BatchWriter): ImportLineError {
  const outcome =
    writer.imported === 0
      ? 'nothing was imported'
      : `the ${plural(writer.imported, 'record')} before it ${writer.imported === 1 ? 'was' : 'were'} imported, nothing from it on`;
  return new ImportLineError(
    error.source,
    error.line,
    `${error.reason}; ${outcome} (fix the line and import again; --continue skips malformed lines, --dry-run finds them all first)`,
  );
}

function describeImport(directory: string, source: ImportSource, report: ImportReport): string {
  const skipped = report.skipped === 0 ? '' : `; skipped ${plural(report.skipped, 'malformed line')}`;
  return (
    `imported ${plural(report.imported, 'record')} from ${source.label} into ${directory} ` +
    `(${report.format}, ${plural(report.batches, 'batch', 'batches')}, ${formatDuration(report.durationMs)}, generation ${report.generation})${skipped}`
  );
}
