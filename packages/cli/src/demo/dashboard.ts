import { MultiBar, type SingleBar } from 'cli-progress';
import { formatBytes, formatCount, formatDuration, plural } from '../support/formatting.js';
import type { ProgressTarget } from '../support/progress.js';

/** What the demo shows at one moment. */
export interface DemoView {
  /** "loading keys", "force-merging", ... */
  readonly phase: string;
  readonly elapsedMs: number;
  readonly written: number;
  readonly total: number;
  readonly writesPerSecond: number;
  readonly generation: number;
  /** Sizes of the current generation's segments, oldest first. */
  readonly segmentBytes: readonly number[];
  readonly mergesRunning: number;
  readonly mergesDone: number;
  readonly mergeBytes: number;
  /** The last merge, in words. */
  readonly lastMerge: string | undefined;
  /** Writes are being held back: segments passed the merge policy's cap. */
  readonly backpressure: boolean;
  readonly readers: number;
  /** Writes timed from the writer's `mset` resolving to the reader process reading them (each reader times each batch). */
  readonly latencySamples: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** The reader processes' own writes, forwarded to the writer: how many, and how long each took to be acknowledged. */
  readonly clientWrites: number;
  readonly clientWriteP50Ms: number | undefined;
  readonly clientWriteP99Ms: number | undefined;
}

/** A plain line at most this often when standard error is not a terminal. */
const PLAIN_LINE_MS = 2000;
const SPARKS = '▁▂▃▄▅▆▇█';
const SHOWN_SIZES = 8;

/**
 * The demo's live view on standard error: on a terminal, a cli-progress
 * multi-bar redrawn in place (a status line, the load bar, segments,
 * merges, readers); elsewhere (CI logs, pipes) a plain line every two
 * seconds and one per phase; nothing with `--json`.
 */
export abstract class DemoDashboard {
  static start(target: ProgressTarget, title: string, total: number): DemoDashboard {
    if (target.json) return new SilentDashboard();
    return target.stderr.isTTY ? new TerminalDashboard(target.stderr, title, total) : new PlainDashboard(target.stderr, title);
  }

  abstract show(view: DemoView): void;
  abstract stop(): void;
}

class SilentDashboard extends DemoDashboard {
  show(): void {}
  stop(): void {}
}

class TerminalDashboard extends DemoDashboard {
  private readonly bars: MultiBar;
  private readonly status: SingleBar;
  private readonly load: SingleBar;
  private readonly segments: SingleBar;
  private readonly merges: SingleBar;
  private readonly readers: SingleBar;

  constructor(stream: NodeJS.WriteStream, title: string, total: number) {
    super();
    this.bars = new MultiBar({
      stream,
      hideCursor: true,
      clearOnComplete: false,
      fps: 8,
      barsize: 30,
      format: '{line}',
      autopadding: false,
    });
    this.status = this.bars.create(1, 0, { line: title });
    this.load = this.bars.create(
      total,
      0,
      { written: '0', total: formatCount(total), rate: '0' },
      { format: ' load      {bar} {percentage}% │ {written}/{total} keys │ {rate} writes/s' },
    );
    this.segments = this.bars.create(1, 0, { line: '' });
    this.merges = this.bars.create(1, 0, { line: '' });
    this.readers = this.bars.create(1, 0, { line: '' });
  }

  show(view: DemoView): void {
    this.status.update(0, { line: `silt demo │ ${view.phase} │ ${formatDuration(view.elapsedMs)}` });
    this.load.update(view.written, {
      written: formatCount(view.written),
      total: formatCount(view.total),
      rate: formatCount(view.writesPerSecond),
    });
    this.segments.update(0, { line: ` segments  ${segmentsText(view)}` });
    this.merges.update(0, { line: ` merges    ${mergesText(view)}` });
    this.readers.update(0, { line: ` readers   ${readersText(view)}` });
  }

  stop(): void {
    this.bars.stop();
  }
}

class PlainDashboard extends DemoDashboard {
  private lastLineAt = 0;
  private lastPhase = '';

  constructor(
    private readonly stream: NodeJS.WriteStream,
    title: string,
  ) {
    super();
    stream.write(`${title}\n`);
  }

  show(view: DemoView): void {
    const now = performance.now();
    if (view.phase === this.lastPhase && now - this.lastLineAt < PLAIN_LINE_MS) return;
    this.lastPhase = view.phase;
    this.lastLineAt = now;
    const percent = view.total > 0 ? Math.floor((100 * view.written) / view.total) : 100;
    this.stream.write(
      `[${formatDuration(view.elapsedMs)}] ${view.phase}: ${formatCount(view.written)}/${formatCount(view.total)} keys (${percent}%), ` +
        `${formatCount(view.writesPerSecond)} writes/s │ ${segmentsText(view)} │ merges ${mergesText(view)} │ readers ${readersText(view)}\n`,
    );
  }

  stop(): void {}
}

function segmentsText(view: DemoView): string {
  const sizes = view.segmentBytes;
  const total = sizes.reduce((sum, bytes) => sum + bytes, 0);
  const head = `generation ${view.generation}, ${plural(sizes.length, 'segment')}, ${formatBytes(total)}`;
  if (sizes.length === 0) return head;
  const shown = sizes.slice(-SHOWN_SIZES).map(formatBytes).join(' ');
  return `${head} │ ${sparkline(sizes)} │ ${sizes.length > SHOWN_SIZES ? '… ' : ''}${shown}`;
}

function mergesText(view: DemoView): string {
  const parts = [`${view.mergesRunning} running, ${view.mergesDone} done (${formatBytes(view.mergeBytes)} written)`];
  if (view.lastMerge !== undefined) parts.push(`last: ${view.lastMerge}`);
  if (view.backpressure) parts.push('writes held back: segments past the cap');
  return parts.join(' │ ');
}

function readersText(view: DemoView): string {
  if (view.readers === 0) return 'none (--readers 0)';
  const latency =
    view.p50Ms === undefined || view.p99Ms === undefined
      ? 'waiting for the first write'
      : `a write readable there p50 ${formatDuration(view.p50Ms)}, p99 ${formatDuration(view.p99Ms)} after it resolved (${plural(view.latencySamples, 'sample')})`;
  return `${view.readers} client processes tailing the log │ ${latency} │ ${clientWritesText(view)}`;
}

function clientWritesText(view: DemoView): string {
  if (view.clientWriteP50Ms === undefined || view.clientWriteP99Ms === undefined) return 'their own writes: none acknowledged yet';
  const p50 = formatDuration(view.clientWriteP50Ms);
  const p99 = formatDuration(view.clientWriteP99Ms);
  return `their own ${formatCount(view.clientWrites)} writes forwarded to the writer, acknowledged p50 ${p50}, p99 ${p99}`;
}

/** Segment sizes as bar heights, oldest first: merges show as tall bars swallowing short ones. */
function sparkline(sizes: readonly number[]): string {
  const largest = Math.max(...sizes, 1);
  return sizes
    .slice(-40)
    .map((bytes) => SPARKS[Math.min(SPARKS.length - 1, Math.floor((bytes / largest) * SPARKS.length))]!)
    .join('');
}
