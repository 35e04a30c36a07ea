import { PassThrough } from 'node:stream';
import type { CommandContext } from '../cli/command-context.js';
import { Interrupts } from '../cli/interrupts.js';
import { LineWriter } from '../cli/line-writer.js';
import { runVerify, type VerifyReport } from '../cli/verify.js';

export interface VerifyOutcome {
  readonly exitCode: number;
  readonly report: VerifyReport;
}

/**
 * `silt verify <dir> --json` in this process, as the CLI runs it, without
 * spawning one (a campaign runs it hundreds of times): its exit code and
 * report. What the command throws is thrown, as main would report it.
 */
export async function verifyInProcess(directory: string): Promise<VerifyOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let printed = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
  stderr.resume();
  const interrupts = new Interrupts();
  const out = new LineWriter(stdout);
  const context: CommandContext = {
    name: 'verify',
    out,
    // Only written to, never asked whether it is a terminal (json mode shows no progress).
    stderr: stderr as unknown as NodeJS.WriteStream,
    interrupts,
    json: true,
    verbose: false,
    invocation: 'silt',
  };
  try {
    const exitCode = await runVerify(directory, context);
    await out.flush();
    return { exitCode, report: JSON.parse(printed) as VerifyReport };
  } finally {
    interrupts.dispose();
  }
}
