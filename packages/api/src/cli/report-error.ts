import { dirname } from 'node:path';
import { CommanderError } from 'commander';
import { SiltError, ValidationError } from '@silt/fs';
import { LockError, ManifestNotFoundError } from '@silt/segments';
import { BrokenPipeError, InterruptedError, UsageError } from './cli-errors.js';
import { ExitCode } from './exit-codes.js';

/** What main needs to say about a failure, and the code to exit with. */
export interface FailureReport {
  readonly exitCode: number;
  /** One line for people; undefined when commander already printed its own. */
  readonly message: string | undefined;
  readonly code: string;
}

/**
 * Maps a failure to its exit code (CLI.md, "Exit codes") and one line a
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
