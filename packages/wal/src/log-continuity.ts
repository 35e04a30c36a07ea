import { CorruptionError } from '@silt/fs';
import type { LogFileInfo } from './log-files.js';

/**
 * The log must hold every sequence number from the one its caller needs
 * next (the `nextSequence` option: what the caller has not yet stored
 * elsewhere) to its last record, without a hole: a deleted or cut log file
 * must not go unnoticed because the files left parse clean. Within a file
 * the parser checks that records follow each other; this checks across
 * files, by their names, which are the sequence number each file must start
 * with (so an empty file still promises where the next one starts).
 *
 * Without `nextSequence` the log cannot tell where its caller needs it to
 * start, so only the files' continuity with each other is checked.
 */
export class SequenceContinuity {
  /** The sequence number the next file must start at or below; undefined before the first file when the caller gave none. */
  private need: number | undefined;
  /** Whether `need` is the caller's nextSequence rather than the end of a file read. */
  private needIsCallers: boolean;
  private previous: LogFileInfo | undefined;

  constructor(private readonly expected: number | undefined) {
    this.need = expected;
    this.needIsCallers = expected !== undefined;
  }

  /**
   * Whether every record `file` can hold lies below the caller's next
   * sequence number: the next file starts at or below it. Such a file is
   * covered (stored elsewhere, awaiting `truncateBefore`); open does not read it.
   */
  isCovered(next: LogFileInfo | undefined): boolean {
    return this.expected !== undefined && next !== undefined && next.firstSequence <= this.expected;
  }

  /** Notes a covered file, so that a gap after it names it. */
  skipped(file: LogFileInfo): void {
    this.previous = file;
  }

  /** The CorruptionError for sequence numbers missing before `file`, or undefined when it continues the log. */
  gapBefore(file: LogFileInfo): CorruptionError | undefined {
    const need = this.need;
    if (need === undefined || file.firstSequence <= need) return undefined;
    const missing = missingText(need, file.firstSequence - 1);
    const where =
      this.previous === undefined ? `before ${file.name}, the oldest log file` : `between ${this.previous.name} and ${file.name}`;
    const why = this.needIsCallers
      ? ` (the log must hold sequence number ${need} next: the nextSequence its caller gave)`
      : ` (${this.previous?.name ?? 'the previous file'} ends at sequence number ${need - 1})`;
    return new CorruptionError(file.path, 0, `${missing} ${where}${why}`);
  }

  /** Notes a file that was read: its records (if any) end at `file.lastSequence`. */
  passed(file: LogFileInfo): void {
    const end = file.lastSequence === undefined ? file.firstSequence : file.lastSequence + 1;
    if (this.need === undefined || end > this.need) {
      this.need = end;
      this.needIsCallers = false;
    }
    this.previous = file;
  }
}

function missingText(first: number, last: number): string {
  return first === last ? `sequence number ${first} is missing` : `sequence numbers ${first}–${last} are missing`;
}
