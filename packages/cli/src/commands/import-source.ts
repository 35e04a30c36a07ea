import { createReadStream, fstatSync, statSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { ImportLineError, UsageError } from '../support/errors.js';

export type ImportFormat = 'jsonl' | 'tsv';

/**
 * What `silt import` reads, once, front to back: a file, or standard input.
 * Nothing of it is held beyond the chunk being split into lines (and a line
 * cut by the chunk's end), so memory does not grow with its size.
 */
export interface ImportSource {
  /** For messages: the file name, or "standard input". */
  readonly label: string;
  /** Its size when it is a file (for progress); undefined for a pipe. */
  readonly bytes: number | undefined;
  /** The bytes, in chunks of about 1 MiB. */
  open(): Readable;
}

const CHUNK_BYTES = 1024 * 1024;
/**
 * The longest line read: a 16 MiB value in base64 with its JSON around it
 * fits. A longer one is a malformed line, not a reason to hold a file.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export function openImportSource(input: string, stdin: NodeJS.ReadStream): ImportSource {
  if (input !== '-') return fileSource(input);
  if (stdin.isTTY) throw new UsageError('standard input is a terminal; pipe the records in (`... | silt import <dir> -`) or name a file');
  return { label: 'standard input', bytes: regularFileSize(stdin), open: () => stdin };
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
  return { label: path, bytes: stats.size, open: () => createReadStream(path, { highWaterMark: CHUNK_BYTES }) };
}

/** `silt import idx - < file`: standard input is the file itself, whose size is known. */
function regularFileSize(stdin: NodeJS.ReadStream): number | undefined {
  try {
    const stats = fstatSync((stdin as NodeJS.ReadStream & { fd?: number }).fd ?? 0);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lines of one chunk that have something on them, with their numbers
 * (1-based, as editors count, blank lines included in the count).
 */
export interface SourceLines {
  readonly texts: string[];
  readonly numbers: number[];
  /** Bytes of the source read so far, for progress. */
  readonly bytesRead: number;
}

const NEWLINE = 0x0a;

/**
 * Splits the source into lines a chunk at a time: one UTF-8 decode per
 * chunk (cut after its last newline, which never falls inside a character)
 * and one string split, rather than a stream event and an `await` per line.
 * Blank lines are skipped, CRLF ends and a byte order mark at the start are
 * dropped. Invalid UTF-8 becomes U+FFFD, as in any UTF-8 text reader.
 */
export async function* readSourceLines(source: ImportSource): AsyncGenerator<SourceLines> {
  let carry: Buffer | undefined;
  let lineNumber = 0;
  let bytesRead = 0;
  const stream = source.open();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytesRead += bytes.length;
      const joined = carry === undefined ? bytes : Buffer.concat([carry, bytes]);
      const end = joined.lastIndexOf(NEWLINE);
      if (end < 0) {
        if (joined.length > MAX_LINE_BYTES) throw tooLong(source, lineNumber + 1);
        carry = joined;
        continue;
      }
      carry = end + 1 < joined.length ? joined.subarray(end + 1) : undefined;
      const lines = splitLines(joined.toString('utf8', 0, end), lineNumber, bytesRead);
      lineNumber += lines.lineCount;
      if (lines.texts.length > 0) yield lines;
    }
    if (carry !== undefined) {
      const lines = splitLines(carry.toString('utf8'), lineNumber, bytesRead);
      if (lines.texts.length > 0) yield lines;
    }
  } finally {
    stream.destroy();
  }
}

function tooLong(source: ImportSource, line: number): ImportLineError {
  return new ImportLineError(source.label, line, `the line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB without a line end`);
}

function splitLines(text: string, before: number, bytesRead: number): SourceLines & { lineCount: number } {
  const texts: string[] = [];
  const numbers: number[] = [];
  let number = before;
  let start = 0;
  for (;;) {
    const newline = text.indexOf('\n', start);
    const stop = newline < 0 ? text.length : newline;
    number++;
    let line = text.slice(start, stop > start && text.charCodeAt(stop - 1) === 0x0d ? stop - 1 : stop);
    if (number === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (!isBlank(line)) {
      texts.push(line);
      numbers.push(number);
    }
    if (newline < 0) break;
    start = newline + 1;
  }
  return { texts, numbers, bytesRead, lineCount: number - before };
}

/** `trim() === ''`, without trimming the lines that cannot be blank: those starting with a visible ASCII character. */
function isBlank(line: string): boolean {
  const first = line.charCodeAt(0);
  if (first > 0x20 && first < 0x7f) return false;
  return line.trim() === '';
}

/**
 * `--format` when given; else the file's extension (.tsv, .tab; .jsonl,
 * .ndjson, .json); else undefined: the first line decides (formatOfFirstLine).
 */
export function formatOfName(source: ImportSource, given: ImportFormat | undefined): ImportFormat | undefined {
  if (given !== undefined) return given;
  const extension = extname(source.label).toLowerCase();
  if (extension === '.tsv' || extension === '.tab') return 'tsv';
  if (['.jsonl', '.ndjson', '.json'].includes(extension)) return 'jsonl';
  return undefined;
}

/** A `{` starts JSON Lines; anything else is TSV. */
export function formatOfFirstLine(text: string): ImportFormat {
  return text.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
}
