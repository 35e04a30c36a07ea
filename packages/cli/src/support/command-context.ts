import { basename, relative, sep } from 'node:path';
import type { Interrupts } from './interrupts.js';
import type { LineWriter } from './line-writer.js';
import type { ProgressTarget } from './progress.js';

/** The options every command takes. */
export interface CommonOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** What a command runs with: its output streams, the signals, the common options. */
export interface CommandContext extends ProgressTarget {
  /** The subcommand's name, for messages: "import". */
  readonly name: string;
  /** Standard output: results only (values, records, reports). */
  readonly out: LineWriter;
  /** Standard error: progress, notes and errors. */
  readonly stderr: NodeJS.WriteStream;
  readonly interrupts: Interrupts;
  readonly json: boolean;
  readonly verbose: boolean;
  /** How the user ran silt, for the commands a message suggests: "silt", or "node packages/cli/dist/bin/silt.js". */
  readonly invocation: string;
}

/** Writes one JSON document as a line of standard output. */
export function printJson(context: CommandContext, value: unknown): Promise<void> {
  return context.out.line(JSON.stringify(value));
}

/** A line for people on standard error; silent with `--json`. */
export function note(context: CommandContext, text: string): void {
  if (!context.json) context.stderr.write(`${text}\n`);
}

/** "silt" when run through the installed bin, else the node command that ran this file, so suggested commands can be pasted. */
export function invocationOf(script: string | undefined, cwd: string): string {
  if (script === undefined) return 'silt';
  if (basename(script) === 'silt') return 'silt';
  if (script.split(sep).includes('node_modules')) return 'npx silt';
  // A path up and out of the working directory reads worse than the absolute one.
  const path = relative(cwd, script).startsWith('..') ? script : relative(cwd, script);
  return `node ${path.includes(' ') ? JSON.stringify(path) : path}`;
}
