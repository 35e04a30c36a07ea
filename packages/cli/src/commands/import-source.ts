import { createReadStream, fstatSync, statSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { isAscii } from 'node:buffer';
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
 * Splits the source into lines a chunk at a time, rather than with a stream
 * event and an `await` per line. A chunk is decoded whole up to its last
 * newline (which never falls inside a UTF-8 character), as Latin-1 when it
 * is all ASCII (the same characters, several times faster); only the line
 * a chunk boundary cut is joined from two buffers. Blank lines are skipped,
 * CRLF ends and a byte order mark at the start are dropped. Invalid UTF-8
 * becomes U+FFFD, as in any UTF-8 text reader.
 */
export async function* readSourceLines(source: ImportSource): AsyncGenerator<SourceLines> {
  let carry: Buffer | undefined;
  let bytesRead = 0;
  const lines = new LineCollector();
  const stream = source.open();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytesRead += bytes.length;
      const first = bytes.indexOf(NEWLINE);
      if (first < 0) {
        carry = carry === undefined ? bytes : Buffer.concat([carry, bytes]);
        if (carry.length > MAX_LINE_BYTES) throw tooLong(source, lines.count + 1);
        continue;
      }
      const cut = bytes.subarray(0, first);
      lines.split(decode(carry === undefined ? cut : Buffer.concat([carry, cut])));
      const last = bytes.lastIndexOf(NEWLINE);
      if (last > first) lines.split(decode(bytes.subarray(first + 1, last)));
      carry = last + 1 < bytes.length ? bytes.subarray(last + 1) : undefined;
      if (lines.any) yield lines.take(bytesRead);
    }
    if (carry !== undefined) lines.split(decode(carry));
    if (lines.any) yield lines.take(bytesRead);
  } finally {
    stream.destroy();
  }
}

function decode(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

function tooLong(source: ImportSource, line: number): ImportLineError {
  return new ImportLineError(source.label, line, `the line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB without a line end`);
}

/** Lines with something on them and their numbers, gathered across calls until taken. */
class LineCollector {
  private texts: string[] = [];
  private numbers: number[] = [];
  /** Lines seen so far, blank ones included: the number of the last. */
  private seen = 0;

  get count(): number {
    return this.seen;
  }

  /** Whether there are lines to take. */
  get any(): boolean {
    return this.texts.length > 0;
  }

  /** Adds the lines of `text`: every newline in it ends one, and its end ends the last. */
  split(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      const stop = newline < 0 ? text.length : newline;
      const number = ++this.seen;
      let line = text.slice(start, stop > start && text.charCodeAt(stop - 1) === 0x0d ? stop - 1 : stop);
      if (number === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (!isBlank(line)) {
        this.texts.push(line);
        this.numbers.push(number);
      }
      if (newline < 0) return;
      start = newline + 1;
    }
  }

  take(bytesRead: number): SourceLines {
    const taken = { texts: this.texts, numbers: this.numbers, bytesRead };
    this.texts = [];
    this.numbers = [];
    return taken;
  }
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
