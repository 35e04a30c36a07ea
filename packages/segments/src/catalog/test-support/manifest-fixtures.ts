import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import type { Manifest } from '../manifest.js';
import type { NewSegment } from '../manifest-schema.js';

/** Shared by the manifest and writer-lock tests: sample segments, child programs. */

const keyBytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A plausible segment covering sequences `minSequence..maxSequence`. */
export function sampleSegment(id: number, minSequence: number, maxSequence: number, overrides: Partial<NewSegment> = {}): NewSegment {
  const entries = maxSequence - minSequence + 1;
  return {
    id,
    minSequence,
    maxSequence,
    minKey: keyBytes(`key-${String(minSequence).padStart(12, '0')}`),
    maxKey: keyBytes(`key-${String(maxSequence).padStart(12, '0')}-z`),
    bytes: 64 * entries,
    entries,
    tombstones: Math.floor(entries / 4),
    ...overrides,
  };
}

/** Allocates ids and commits one flushed segment per range, oldest first. */
export function flush(manifest: Manifest, ...ranges: Array<[number, number]>): number[] {
  return ranges.map(([minSequence, maxSequence]) => {
    const id = manifest.allocateSegmentId();
    manifest.commit({ add: [sampleSegment(id, minSequence, maxSequence)], walCoveredSequence: maxSequence });
    return id;
  });
}

/** Commits one merged segment replacing `inputs` (live ids), spanning their sequence ranges. */
export function merge(manifest: Manifest, inputs: readonly number[]): number {
  const live = manifest.current().segments.filter((segment) => inputs.includes(segment.id));
  const id = manifest.allocateSegmentId();
  manifest.commit({
    remove: inputs,
    add: [sampleSegment(id, Math.min(...live.map((s) => s.minSequence)), Math.max(...live.map((s) => s.maxSequence)))],
  });
  return id;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A compiled program from `dist/test-support/` run as a child process,
 * read line by line. `kill()` resolves once the child is reaped, so its pid
 * is truly gone (a zombie would still look alive to `kill(pid, 0)`).
 */
export class ChildProgram {
  readonly child: ChildProcess;
  readonly pid: number;
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly exitPromise: Promise<ChildExit>;
  private stderrText = '';
  private exitStatus: ChildExit | undefined;

  private constructor(child: ChildProcess) {
    if (child.pid === undefined) throw new Error('child process did not start');
    this.child = child;
    this.pid = child.pid;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString();
    });
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
    // readline may deliver the last lines after 'exit'; 'close' comes after both.
    child.on('close', () => this.wake());
  }

  static start(program: string, args: readonly string[]): ChildProgram {
    const script = fileURLToPath(new URL(`./${program}.js`, import.meta.url));
    const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const started = new ChildProgram(child);
    after(() => {
      if (started.exitStatus === undefined) child.kill('SIGKILL');
    });
    return started;
  }

  /** The next line the child prints; rejects if it ends first. */
  async nextLine(): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.child.stdout!.readableEnded && this.exitStatus !== undefined) {
        throw new Error(`child ${this.pid} ended (${JSON.stringify(this.exitStatus)}) without printing a line; stderr: ${this.stderrText}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Every line printed until the child exits. */
  async remainingLines(): Promise<string[]> {
    await this.exited();
    await new Promise<void>((resolve) => (this.child.stdout!.readableEnded ? resolve() : this.child.on('close', () => resolve())));
    return this.lines.splice(0);
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  exited(): Promise<ChildExit> {
    return this.exitPromise;
  }

  async kill(): Promise<ChildExit> {
    if (this.exitStatus === undefined) this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  get stderr(): string {
    return this.stderrText;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
