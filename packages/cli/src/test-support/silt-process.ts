import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The compiled executable, run as users run it: `node dist/bin/silt.js ...`. */
export const SILT = fileURLToPath(new URL('../bin/silt.js', import.meta.url));

export interface SiltResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Standard input; when absent, standard input is closed at once. */
  readonly input?: string;
  readonly cwd?: string;
}

/** A running `silt` process: its output so far, a wait for a pattern in it, and its result. */
export class SiltProcess {
  readonly result: Promise<SiltResult>;
  private stdoutSoFar = '';
  private stderrSoFar = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdoutSoFar += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderrSoFar += chunk));
    this.result = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Standard output so far. */
  get stdout(): string {
    return this.stdoutSoFar;
  }

  /** Standard error so far. */
  get stderr(): string {
    return this.stderrSoFar;
  }

  /** Resolves once standard output matches `pattern`; rejects if the process ends first. */
  async waitForOutput(pattern: RegExp): Promise<void> {
    for (;;) {
      if (pattern.test(this.stdout)) return;
      const ended = await Promise.race([
        this.result.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 20)),
      ]);
      if (ended && !pattern.test(this.stdout))
        throw new Error(`silt ended without printing ${pattern}; stdout: ${this.stdout}; stderr: ${this.stderr}`);
    }
  }
}

export function startSilt(args: readonly string[], options: RunOptions = {}): SiltProcess {
  const child = spawn(process.execPath, [SILT, ...args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.end(options.input);
  return new SiltProcess(child);
}

export function runSilt(args: readonly string[], options: RunOptions = {}): Promise<SiltResult> {
  return startSilt(args, options).result;
}

/** A fresh working directory, removed when the test file finishes. */
export function workDirectory(label: string): string {
  const directory = mkdtempSync(join(tmpdir(), `silt-cli-${label}-`));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Every file under `directory`, relative paths, sorted: what a failed command must leave unchanged. */
export function listTree(directory: string): string[] {
  try {
    return (readdirSync(directory, { recursive: true }) as string[]).sort();
  } catch {
    return [];
  }
}

/** Whether a process with this pid is running (signal 0 probes without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
