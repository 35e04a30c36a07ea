import { dirname } from 'node:path';
import { CommanderError } from 'commander';
import { LockError, ManifestNotFoundError, SiltError, ValidationError } from 'silt';

/**
 * How a command fails: its exit codes (README, "Exit codes"), the errors
 * the command line adds to silt's own, and the one line a person reads
 * for each failure.
 */

/**
 * The exit codes of `silt`, documented in the README. Scripts branch on them, so
 * they never change meaning.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The operation failed (I/O, another writer holds the index, malformed import input) or `verify` found damage. */
  failure: 1,
  /** The command line is wrong: unknown command or option, a bad value, a directory that is not an index. Nothing was done. */
  usage: 2,
  /** `get`: the key is not in the index. */
  notFound: 3,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

/** The command line is wrong (a bad value, a directory that is not an index, an input file that is missing). Nothing was done. */
export class UsageError extends SiltError {
  readonly code = 'SILT_USAGE';
}

/**
 * Commander refused the command line: an unknown command or option, a
 * missing or extra argument, a bad value. One line that names the command
 * and where its usage is, never the whole help. Nothing was done.
 */
export class ArgumentError extends UsageError {
  constructor(
    /** `silt`, or `silt <command>` when a command's own arguments were wrong. */
    readonly command: string,
    reason: string,
  ) {
    super(`${reason} (see ${command} --help)`);
  }
}

/** Commander's exits that are not argument errors: help or the version was asked for, or no command was given. */
const NOT_ARGUMENT_ERRORS: ReadonlySet<string> = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * Commander's exit callback for `command`: an argument error becomes an
 * `ArgumentError` (commander prints nothing itself: see `main.ts`), so it
 * is reported in one line, or as JSON with `--json`, like every other
 * failure. Help and version exits pass through.
 */
export function throwArgumentError(command: string): (error: CommanderError) => never {
  return (error) => {
    if (NOT_ARGUMENT_ERRORS.has(error.code)) throw error;
    // Commander's message starts with "error: " and may end in a line "(Did you mean stats?)".
    const [reason = '', hint] = error.message.replace(/^error: /, '').split(/\s*\n\s*/);
    const suggestion = hint?.match(/^\((.+)\)$/)?.[1];
    throw new ArgumentError(command, suggestion === undefined ? reason : `${reason}; ${suggestion.toLowerCase()}`);
  };
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

  constructor(
    readonly signal: NodeJS.Signals,
    detail: string,
  ) {
    super(`interrupted (${signal}): ${detail}`);
  }
}

/**
 * `silt watch --changes --since n`: the log no longer holds the changes
 * after n (a flush covered them and deleted their log file). What is left
 * to do is a rescan, and the message says how, with this command line.
 */
export class RescanNeededError extends SiltError {
  readonly code = 'SILT_CHANGES_TOO_OLD';

  constructor(since: number, oldestAvailable: number | undefined, rescan: string) {
    const holds = oldestAvailable === undefined ? 'it holds no file' : `it now starts at sequence ${oldestAvailable}`;
    super(`the changes after sequence ${since} are no longer in the log (${holds}: a flush covered them); rescan: ${rescan}`);
  }
}

/** The reader of our standard output went away (`silt scan ... | head`): stop quietly. */
export class BrokenPipeError extends SiltError {
  readonly code = 'SILT_BROKEN_PIPE';

  constructor() {
    super('the reader of the output closed it');
  }
}

/** What main needs to say about a failure, and the code to exit with. */
export interface FailureReport {
  readonly exitCode: number;
  /** One line for people; undefined when commander already printed its own. */
  readonly message: string | undefined;
  readonly code: string;
}

/**
 * Maps a failure to its exit code (README, "Exit codes") and one line a
 * person can act on. The stack is for `--verbose` only.
 */
export function reportOf(error: unknown, interruptedExitCode: (signal: NodeJS.Signals) => number): FailureReport {
  if (error instanceof CommanderError) {
    const shown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
    return { exitCode: shown ? ExitCode.ok : ExitCode.usage, message: undefined, code: error.code };
  }
  if (error instanceof BrokenPipeError) return { exitCode: ExitCode.ok, message: undefined, code: error.code };
  if (error instanceof InterruptedError) return { exitCode: interruptedExitCode(error.signal), message: error.message, code: error.code };
  if (error instanceof LockError) return { exitCode: ExitCode.failure, message: lockMessage(error), code: error.code };
  if (error instanceof UsageError || error instanceof ValidationError || error instanceof ManifestNotFoundError) {
    return { exitCode: ExitCode.usage, message: error.message, code: error.code };
  }
  if (error instanceof SiltError) return { exitCode: ExitCode.failure, message: error.message, code: error.code };
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: ExitCode.failure, message: `${message} (unexpected: --verbose shows where)`, code: 'SILT_UNEXPECTED' };
}

function lockMessage(error: LockError): string {
  const holder = error.holderPid === undefined ? 'another process' : `process ${error.holderPid}`;
  return `${dirname(error.path)} is open for writing in ${holder}, and an index has one writer at a time; stop it first, or make the change through it (reads such as get, scan and stats work beside it)`;
}

/** The error and its causes, with stacks, for `--verbose`. */
export function verboseDetail(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}
