import { DEFAULT_MAX_VALUE_BYTES, type Index, type Key, type Value } from 'silt';
import { ExitCode, ImportLineError } from '../support/errors.js';
import { note, printJson, type CommandContext } from '../support/command-context.js';
import { finishWrites, openWriter, refuseForeignDirectory } from '../support/index-access.js';
import { detectFormat, openImportSource, readSourceLines, type ImportFormat, type ImportSource } from './import-source.js';
import { Progress } from '../support/progress.js';
import { parseJsonRecord, parseTsvRecord, RecordError } from '../support/records.js';
import { formatDuration, plural } from '../support/formatting.js';

export interface ImportFlags {
  readonly format?: ImportFormat;
  /** Skip malformed lines (reported) instead of importing nothing. */
  readonly continue?: boolean;
  /** Records per atomic batch (`mset`). */
  readonly batch: number;
}

/** Characters of keys and values per batch: well inside one 16 MiB log record even at 3 UTF-8 bytes a character. */
const BATCH_CHARS = 4 * 1024 * 1024;
/** Malformed lines named in a message or kept in the JSON report. */
const NAMED_BAD_LINES = 10;
const REPORTED_BAD_LINES = 1000;

interface BadLine {
  readonly line: number;
  readonly reason: string;
}

interface BatchResult {
  readonly imported: number;
  readonly batches: number;
  readonly bad: readonly BadLine[];
  readonly skipped: number;
}

type ParseRecord = (text: string, maxValueBytes: number) => readonly [Key, Value];

/** What `silt import --json` prints. */
export interface ImportReport {
  readonly imported: number;
  readonly batches: number;
  readonly format: ImportFormat;
  readonly skipped: number;
  /** The first 1,000 skipped lines (with `--continue`). */
  readonly skippedLines: readonly BadLine[];
  readonly generation: number;
  readonly durationMs: number;
}

/**
 * `silt import <dir> <file|->`: JSON Lines or TSV records, written in
 * atomic batches (`mset`). Every line is checked before the first is
 * written, so a malformed line (named with its number) imports nothing;
 * `--continue` skips such lines instead and names them.
 */
export async function runImport(directory: string, input: string, flags: ImportFlags, context: CommandContext): Promise<number> {
  const startedAt = performance.now();
  refuseForeignDirectory(directory);
  const source = await openImportSource(input, process.stdin);
  try {
    const { format, guessed } = await detectFormat(source, flags.format);
    const parse: ParseRecord = format === 'tsv' ? parseTsvRecord : parseJsonRecord;
    if (flags.continue !== true) await checkEveryLine(source, parse, context, guessed ? format : undefined);
    const index = await openWriter(directory, true);
    let result: BatchResult = { imported: 0, batches: 0, bad: [], skipped: 0 };
    const stats = await finishWrites(index, context.interrupts.signal, async () => {
      result = await writeBatches(index, source, parse, flags.batch, context);
    });
    const report: ImportReport = {
      imported: result.imported,
      batches: result.batches,
      format,
      skipped: result.skipped,
      skippedLines: result.bad,
      generation: stats.generation,
      durationMs: Math.round(performance.now() - startedAt),
    };
    if (context.json) await printJson(context, report);
    else await context.out.line(describeImport(directory, source, report));
    return ExitCode.ok;
  } finally {
    source.cleanup();
  }
}

/** The first pass: every line parsed, nothing written; the malformed ones make an ImportLineError. */
async function checkEveryLine(
  source: ImportSource,
  parse: ParseRecord,
  context: CommandContext,
  guessedFormat: ImportFormat | undefined,
): Promise<void> {
  const progress = Progress.start(context, { title: 'checking', total: source.bytes, unit: 'bytes' });
  const bad: BadLine[] = [];
  let badCount = 0;
  try {
    for await (const { number, text } of readSourceLines(source, (bytes) => progress.update(bytes))) {
      const reason = problemOf(parse, text);
      if (reason === undefined) continue;
      badCount++;
      if (bad.length < NAMED_BAD_LINES) bad.push({ line: number, reason });
    }
  } finally {
    progress.stop();
  }
  context.interrupts.throwIfInterrupted('nothing was imported');
  const first = bad[0];
  if (first === undefined) return;
  const others = bad.slice(1).map((line) => line.line);
  const more =
    badCount > 1 ? `; ${plural(badCount - 1, 'more malformed line')} (${others.join(', ')}${badCount > bad.length ? ', …' : ''})` : '';
  const hint =
    guessedFormat === undefined ? '' : ` (read as ${guessedFormat}, guessed from the first line: give --format if that is wrong)`;
  throw new ImportLineError(
    source.label,
    first.line,
    `${first.reason}${hint}${more}; nothing was imported (fix the lines, or add --continue to skip them)`,
  );
}

function problemOf(parse: ParseRecord, text: string): string | undefined {
  try {
    parse(text, DEFAULT_MAX_VALUE_BYTES);
    return undefined;
  } catch (error) {
    if (error instanceof RecordError) return error.message;
    throw error;
  }
}

/**
 * The second pass: records in batches, one `mset` in flight while the next
 * batch is parsed. A signal stops it between batches; what was
 * acknowledged stays (whole batches only).
 */
async function writeBatches(
  index: Index,
  source: ImportSource,
  parse: ParseRecord,
  batchSize: number,
  context: CommandContext,
): Promise<BatchResult> {
  const progress = Progress.start(context, { title: 'importing', total: source.bytes, unit: 'bytes' });
  const bad: BadLine[] = [];
  let skipped = 0;
  let imported = 0;
  let batches = 0;
  let batch: Array<readonly [Key, Value]> = [];
  let batchChars = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const send = async (): Promise<void> => {
    await inFlight;
    context.interrupts.throwIfInterrupted(`${plural(imported, 'record')} imported in whole batches, the rest not`);
    const pairs = batch;
    batch = [];
    batchChars = 0;
    inFlight = index.mset(pairs).then(() => {
      imported += pairs.length;
      batches++;
    });
    // Awaited before the next batch; until then a failure must not count as unhandled.
    inFlight.catch(() => undefined);
  };
  try {
    for await (const { number, text } of readSourceLines(source, (bytes) => progress.update(bytes))) {
      let pair: readonly [Key, Value];
      try {
        pair = parse(text, DEFAULT_MAX_VALUE_BYTES);
      } catch (error) {
        if (!(error instanceof RecordError)) throw error;
        skipped++;
        if (bad.length < REPORTED_BAD_LINES) bad.push({ line: number, reason: error.message });
        if (skipped <= NAMED_BAD_LINES) note(context, `silt import: skipped ${source.label}, line ${number}: ${error.message}`);
        continue;
      }
      batch.push(pair);
      batchChars += pair[0].length + pair[1].length;
      if (batch.length >= batchSize || batchChars >= BATCH_CHARS) await send();
    }
    if (batch.length > 0) await send();
    await inFlight;
  } finally {
    progress.stop();
  }
  return { imported, batches, bad, skipped };
}

function describeImport(directory: string, source: ImportSource, report: ImportReport): string {
  const skipped = report.skipped === 0 ? '' : `; skipped ${plural(report.skipped, 'malformed line')}`;
  return (
    `imported ${plural(report.imported, 'record')} from ${source.label} into ${directory} ` +
    `(${report.format}, ${plural(report.batches, 'batch', 'batches')}, ${formatDuration(report.durationMs)}, generation ${report.generation})${skipped}`
  );
}
