import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
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

/** A running `silt` process: its output so far, waits for a pattern in it, and its result. */
export class SiltProcess {
  readonly result: Promise<SiltResult>;
  /** Woken by every chunk of output and by the end: a wait checks its pattern again then, never on a timer. */
  private readonly waiters = new Set<() => void>();
  private ended = false;
  private stdoutSoFar = '';
  private stderrSoFar = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutSoFar += chunk;
      this.wake();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrSoFar += chunk;
      this.wake();
    });
    this.result = new Promise((resolve, reject) => {
      child.once('error', (error) => {
        this.end();
        reject(error);
      });
      child.once('close', (code, signal) => {
        this.end();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
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
  waitForOutput(pattern: RegExp): Promise<void> {
    return this.waitUntil(() => pattern.test(this.stdout), `printing ${pattern}`);
  }

  /** Resolves once standard error (where progress lines go) matches `pattern`; rejects if the process ends first. */
  waitForStderr(pattern: RegExp): Promise<void> {
    return this.waitUntil(() => pattern.test(this.stderr), `printing ${pattern} on standard error`);
  }

  private async waitUntil(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.ended) throw new Error(`silt ended without ${what}; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
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
