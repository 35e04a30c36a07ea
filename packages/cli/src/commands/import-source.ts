import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../support/errors.js';

export type ImportFormat = 'jsonl' | 'tsv';

/**
 * What `silt import` reads: a file, or standard input copied to a temporary
 * file first, because an import reads its input twice (every line is checked
 * before the first is written) and a pipe can be read once.
 */
export interface ImportSource {
  readonly path: string;
  /** For messages: the file name, or "standard input". */
  readonly label: string;
  readonly bytes: number;
  /** Removes the temporary copy of standard input. */
  cleanup(): void;
}

export async function openImportSource(input: string, stdin: NodeJS.ReadStream): Promise<ImportSource> {
  if (input !== '-') return fileSource(input);
  if (stdin.isTTY) throw new UsageError('standard input is a terminal; pipe the records in (`... | silt import <dir> -`) or name a file');
  const directory = mkdtempSync(join(tmpdir(), 'silt-import-'));
  const cleanup = (): void => rmSync(directory, { recursive: true, force: true });
  try {
    const path = join(directory, 'stdin');
    await pipeline(stdin, createWriteStream(path));
    return { path, label: 'standard input', bytes: statSync(path).size, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

function fileSource(path: string): ImportSource {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot import ${path}: no such file`);
    throw error;
  }
  if (!stats.isFile()) throw new UsageError(`cannot import ${path}: not a file`);
  return { path, label: path, bytes: stats.size, cleanup: () => undefined };
}

export interface SourceLine {
  /** 1-based, as editors count. */
  readonly number: number;
  readonly text: string;
}

/**
 * The lines with something on them (blank lines are skipped), and how many
 * bytes of the file were read so far, for progress. A byte order mark at the
 * start is dropped.
 */
export async function* readSourceLines(
  source: ImportSource,
  onBytes: (bytesRead: number) => void = () => undefined,
): AsyncGenerator<SourceLine> {
  const stream = createReadStream(source.path, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number++;
      const text = number === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
      if (text.trim() === '') continue;
      if (number % 4096 === 0) onBytes(stream.bytesRead);
      yield { number, text };
    }
    onBytes(stream.bytesRead);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * `--format` when given; else the file's extension (.tsv, .tab; .jsonl,
 * .ndjson, .json); else the first line: a `{` starts JSON Lines, anything
 * else is TSV. `guessed` lets an error suggest `--format`.
 */
export async function detectFormat(
  source: ImportSource,
  given: ImportFormat | undefined,
): Promise<{ format: ImportFormat; guessed: boolean }> {
  if (given !== undefined) return { format: given, guessed: false };
  const extension = extname(source.label).toLowerCase();
  if (extension === '.tsv' || extension === '.tab') return { format: 'tsv', guessed: false };
  if (['.jsonl', '.ndjson', '.json'].includes(extension)) return { format: 'jsonl', guessed: false };
  for await (const line of readSourceLines(source))
    return { format: line.text.trimStart().startsWith('{') ? 'jsonl' : 'tsv', guessed: true };
  return { format: 'jsonl', guessed: true };
}
