import { SiltError } from '@silt/fs';

/** The command line is wrong (a bad value, a directory that is not an index, an input file that is missing). Nothing was done. */
export class UsageError extends SiltError {
  readonly code = 'SILT_USAGE';
}

/** A line of an import file is not a record `silt import` understands. */
export class ImportLineError extends SiltError {
  readonly code = 'SILT_IMPORT_LINE';

  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}, line ${line}: ${reason}`);
  }
}

/** The command was stopped by a signal (Ctrl-C or SIGTERM) and cleaned up after itself. */
export class InterruptedError extends SiltError {
  readonly code = 'SILT_INTERRUPTED';

  constructor(readonly signal: NodeJS.Signals, detail: string) {
    super(`interrupted (${signal}): ${detail}`);
  }
}

/** The reader of our standard output went away (`silt scan ... | head`): stop quietly. */
export class BrokenPipeError extends SiltError {
  readonly code = 'SILT_BROKEN_PIPE';

  constructor() {
    super('the reader of the output closed it');
  }
}
