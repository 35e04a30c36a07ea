import { createWriteStream, existsSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { note, printJson, type CommandContext } from '../support/command-context.js';
import { UsageError } from '../support/errors.js';
import { withEntryReader, writeEntries } from '../support/entry-output.js';
import { requireIndex } from '../support/index-access.js';
import { LineWriter } from '../support/line-writer.js';
import { rangeOptionsOf, type RangeFlags } from '../support/option-parsers.js';
import { Progress } from '../support/progress.js';
import { toRecord } from '../support/records.js';
import { plural } from '../support/formatting.js';

export interface ExportFlags extends RangeFlags {
  readonly force?: boolean;
}

/**
 * `silt export <dir> [file]`: every live entry (or a range) as JSON Lines, the
 * format `silt import` reads back exactly. A file is written under a
 * temporary name and renamed when complete, so an interrupted export
 * leaves no half file; an existing file is kept unless `--force`.
 */
export async function runExport(directory: string, file: string | undefined, flags: ExportFlags, context: CommandContext): Promise<number> {
  requireIndex(directory);
  if (file !== undefined && existsSync(file) && flags.force !== true) throw new UsageError(`${file} exists; add --force to replace it`);
  return withEntryReader(directory, { keyEncoding: 'binary' }, async (reader) => {
    const generation = reader.generation;
    const upperBound = reader.segments.reduce((sum, segment) => sum + segment.entries, 0);
    const entries = reader.range(rangeOptionsOf(flags));
    const progress = Progress.start(context, { title: 'exporting', total: upperBound, unit: 'entries' });
    const write = (out: LineWriter): Promise<number> =>
      writeEntries(
        entries,
        out,
        (key, value) => JSON.stringify(toRecord(key, value)),
        context.interrupts,
        (written) => progress.update(written),
      );
    let count: number;
    try {
      count = file === undefined ? await write(context.out) : await writeFileAtomically(file, write);
    } catch (error) {
      progress.stop();
      throw error;
    }
    progress.done();
    const described = `exported ${plural(count, 'entry', 'entries')} of ${directory} (generation ${generation})`;
    if (file === undefined) note(context, described);
    else if (context.json) await printJson(context, { exported: count, generation, file });
    else await context.out.line(`${described} to ${file}`);
  });
}

/** Writes through `write` into a temporary file beside `file`, renamed over it only once complete. */
async function writeFileAtomically(file: string, write: (out: LineWriter) => Promise<number>): Promise<number> {
  const temporary = `${file}.${process.pid}.silt-export`;
  const stream = createWriteStream(temporary, { flags: 'wx' });
  try {
    const count = await write(new LineWriter(stream));
    await endStream(stream);
    renameSync(temporary, file);
    return count;
  } catch (error) {
    stream.destroy();
    rmSync(temporary, { force: true });
    throw error;
  }
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
