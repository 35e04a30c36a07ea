import { SingleBar } from 'cli-progress';
import { formatCount, formatDuration } from './formatting.js';

export interface ProgressSpec {
  /** What is going on: "importing", "verifying". */
  readonly title: string;
  /** The value at which the work is done. */
  readonly total: number;
  /** What is counted: "lines", "bytes", "segments". */
  readonly unit: string;
}

export interface ProgressTarget {
  readonly stderr: NodeJS.WriteStream;
  /** `--json`: scripts read standard output, so progress stays silent. */
  readonly json: boolean;
}

/** Shows how far a call has got, given bytes done and the total. */
export type ShowBytes = (done: number, total: number) => void;

/**
 * Runs a library call that reports progress in bytes, with a bar that starts
 * at its first report (the total is known only then) and is stopped, not
 * finished, if the call throws.
 */
export async function withBytesProgress<T>(target: ProgressTarget, title: string, work: (show: ShowBytes) => Promise<T>): Promise<T> {
  let progress: Progress | undefined;
  let result: T;
  try {
    result = await work((done, total) => {
      progress ??= Progress.start(target, { title, total, unit: 'bytes' });
      progress.update(done);
    });
  } catch (error) {
    progress?.stop();
    throw error;
  }
  progress?.done();
  return result;
}

/** A plain progress line at most this often, and only once the work has run that long. */
const PLAIN_LINE_MS = 2000;

/**
 * Progress of a long command on standard error (standard output carries
 * only results, so `silt export idx > file` still shows a bar): a redrawn
 * cli-progress bar on a terminal; on anything else (CI logs, a pipe) a
 * plain line every two seconds; nothing with `--json`.
 */
export abstract class Progress {
  protected readonly startedAt = performance.now();
  protected value = 0;
  protected total: number;

  static start(target: ProgressTarget, spec: ProgressSpec): Progress {
    if (target.json) return new SilentProgress(spec);
    return target.stderr.isTTY ? new BarProgress(spec, target.stderr) : new LineProgress(spec, target.stderr);
  }

  constructor(protected readonly spec: ProgressSpec) {
    this.total = spec.total;
  }

  update(value: number): void {
    this.value = value;
    this.show();
  }

  increment(by = 1): void {
    this.update(this.value + by);
  }

  /** Leaves the display as it is (for a failure or an interruption). */
  abstract stop(): void;

  /** The work is done: the value is the total, even where the total was an upper bound. */
  done(): void {
    this.total = this.value;
    this.stop();
  }

  protected abstract show(): void;

  protected get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  protected get rate(): string {
    const seconds = this.elapsedMs / 1000;
    return seconds < 0.05 ? '' : `${formatCount(this.value / seconds)} ${this.spec.unit}/s`;
  }
}

class SilentProgress extends Progress {
  stop(): void {}
  protected show(): void {}
}

class BarProgress extends Progress {
  private readonly bar: SingleBar;

  constructor(spec: ProgressSpec, stream: NodeJS.WriteStream) {
    super(spec);
    this.bar = new SingleBar({
      stream,
      format: `${spec.title} [{bar}] {percentage}% | {done}/{all} ${spec.unit} | {rate} | {duration_formatted}`,
      hideCursor: true,
      barsize: 30,
      fps: 8,
    });
    this.bar.start(Math.max(1, spec.total), 0, this.payload());
  }

  stop(): void {
    this.bar.setTotal(Math.max(1, this.total));
    this.bar.update(this.value, this.payload());
    this.bar.stop();
  }

  protected show(): void {
    this.bar.update(this.value, this.payload());
  }

  private payload(): Record<string, string> {
    return { done: formatCount(this.value), all: formatCount(this.total), rate: this.rate };
  }
}

class LineProgress extends Progress {
  private lastLineAt = this.startedAt;

  constructor(
    spec: ProgressSpec,
    private readonly stream: NodeJS.WriteStream,
  ) {
    super(spec);
  }

  stop(): void {
    if (this.lastLineAt !== this.startedAt) this.print();
  }

  protected show(): void {
    if (performance.now() - this.lastLineAt >= PLAIN_LINE_MS) this.print();
  }

  private print(): void {
    this.lastLineAt = performance.now();
    const percent = this.total > 0 ? ` (${Math.floor((100 * this.value) / this.total)}%)` : '';
    const rate = this.rate === '' ? '' : `, ${this.rate}`;
    this.stream.write(
      `${this.spec.title}: ${formatCount(this.value)}/${formatCount(this.total)} ${this.spec.unit}${percent}${rate}, ${formatDuration(this.elapsedMs)}\n`,
    );
  }
}
