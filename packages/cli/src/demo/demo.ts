import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Index, inspectIndex, type MergeEvent, type WriterIndexStats } from 'silt';
import { ExitCode, InterruptedError, UsageError } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { unlessAborted } from '../support/interrupts.js';
import { DemoDashboard, type DemoView } from './dashboard.js';
import { wallClockMs } from './protocol.js';
import { ReaderFleet } from './reader-fleet.js';
import { summaryLines, type DemoSummary } from './summary.js';
import { DemoWorkload } from './workload.js';
import { inspectUndamaged } from '../support/index-access.js';
import { formatBytes, formatCount, formatDuration, plural } from '../support/formatting.js';

export interface DemoFlags {
  readonly keys: number;
  readonly readers: number;
  readonly batch: number;
  readonly refreshInterval: number;
  /** Keys per second the load is paced to; 0: as fast as the writer goes. */
  readonly rate: number;
  readonly fresh?: boolean;
}

/** How often the live view is refreshed. */
const VIEW_MS = 250;
/** How long readers get to see the last writes before the figures are taken without them. */
const CATCH_UP_MS = 10_000;
/** A `backpressure` event keeps the note on screen this long. */
const BACKPRESSURE_NOTE_MS = 2000;

/**
 * `silt demo [dir]`: the writer (this process) loads keys in batches while
 * reader processes time how long each write takes to become readable
 * there (they tail the writer's log); a live view shows the segments of each generation, merges and the
 * latencies. Then a force-merge, a summary of what happened, and the index
 * stays in `dir` to explore. Ctrl-C stops it cleanly: readers closed, the
 * index closed with what was acknowledged, exit 130.
 */
export async function runDemo(directory: string, flags: DemoFlags, context: CommandContext): Promise<number> {
  await prepareDirectory(directory, flags.fresh === true, context.invocation);
  const workload = new DemoWorkload(flags.keys, flags.batch);
  const index = await Index.open(directory, { refreshIntervalMs: flags.refreshInterval, role: 'writer' });
  const tracker = new DemoTracker(index, flags.keys);
  let fleet: ReaderFleet | undefined;
  let dashboard: DemoDashboard | undefined;
  let viewTimer: NodeJS.Timeout | undefined;
  let summary: DemoSummary | undefined;
  try {
    fleet = await ReaderFleet.start(directory, flags.readers, workload);
    const title = `silt demo: ${formatCount(flags.keys)} keys into ${directory}, writer pid ${process.pid}, ${plural(fleet.count, 'reader process', 'reader processes')} (pid ${fleet.pids.join(', ') || '-'})`;
    dashboard = DemoDashboard.start(context, title, flags.keys);
    const show = (): void => dashboard?.show(tracker.view(writerStatsOf(index), fleet!));
    viewTimer = setInterval(show, VIEW_MS);
    const result = await runPhases(index, fleet, workload, flags.rate, tracker, context.interrupts.signal);
    show();
    if (result !== undefined) summary = summarize(directory, flags, workload, tracker, fleet, result);
  } finally {
    clearInterval(viewTimer);
    dashboard?.stop();
    await fleet?.stop();
    await index.close();
  }
  if (summary === undefined) {
    const signal = await context.interrupts.whenInterrupted;
    throw new InterruptedError(signal, `${plural(tracker.written, 'key')} written; the index in ${directory} keeps every acknowledged one`);
  }
  if (context.json) await printJson(context, summary);
  else for (const line of summaryLines(summary, context.invocation)) await context.out.line(line);
  return ExitCode.ok;
}

/**
 * An empty or missing directory is used; an index from an earlier demo is
 * removed with `--fresh` (only if it holds nothing but index files and no
 * writer has it open), refused without; anything else is refused.
 */
async function prepareDirectory(directory: string, fresh: boolean, invocation: string): Promise<void> {
  const { kind, foreignEntries } = inspectUndamaged(directory);
  if (kind === 'missing' || kind === 'empty') return;
  if (kind !== 'index')
    throw new UsageError(`${directory} is not empty and is not a silt index; give the demo another directory: ${invocation} demo <dir>`);
  if (!fresh) {
    throw new UsageError(
      `${directory} already holds an index (an earlier demo?); explore it with \`${invocation} stats ${directory}\`, or start over with \`${invocation} demo ${directory} --fresh\``,
    );
  }
  const { writer } = await inspectIndex(directory);
  if (writer?.running === true)
    throw new UsageError(`${directory} is open for writing in process ${writer.pid}; stop it before --fresh removes the index`);
  if (foreignEntries.length > 0)
    throw new UsageError(
      `${directory} holds files silt did not write; --fresh removes only an index, so remove it yourself or pick another directory`,
    );
  rmSync(directory, { recursive: true, force: true });
}

interface PhaseResult {
  readonly loadMs: number;
  readonly forceMergeMs: number;
  readonly segmentsBefore: number;
  readonly final: WriterIndexStats;
  readonly totalMs: number;
}

/**
 * Load, flush, let the readers catch up, force-merge. Resolves undefined
 * once a signal stopped it; no write is in flight then, so every key
 * counted was acknowledged.
 */
async function runPhases(
  index: Index,
  fleet: ReaderFleet,
  workload: DemoWorkload,
  rate: number,
  tracker: DemoTracker,
  signal: AbortSignal,
): Promise<PhaseResult | undefined> {
  const startedAt = performance.now();
  tracker.enterPhase(rate > 0 ? `loading keys, paced to ${formatCount(rate)}/s` : 'loading keys');
  for (let batch = 0; batch < workload.batches && !signal.aborted; batch++) {
    // Paced, the load runs as an application writing steadily would, not as a bulk import.
    const due = rate > 0 ? startedAt + ((batch * workload.batchSize) / rate) * 1000 : 0;
    if (due > performance.now()) await sleep(due - performance.now(), undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    const pairs = workload.batch(batch);
    await index.mset(pairs);
    const acknowledgedAt = wallClockMs();
    tracker.countWritten(pairs.length);
    fleet.probe(batch, acknowledgedAt);
  }
  if (signal.aborted) return undefined;
  const loadMs = performance.now() - startedAt;
  tracker.enterPhase('clients finishing their own writes');
  await fleet.stopWriting(CATCH_UP_MS, signal);
  tracker.enterPhase('flushing the last writes');
  await index.flush();
  tracker.enterPhase('readers catching up');
  await fleet.caughtUp(index.stats().generation, CATCH_UP_MS, signal);
  const segmentsBefore = index.stats().segments.length;
  tracker.enterPhase(`force-merging ${plural(segmentsBefore, 'segment')} into one`);
  const mergeStartedAt = performance.now();
  if (!(await unlessAborted(index.forceMerge(1), signal))) return undefined;
  const forceMergeMs = performance.now() - mergeStartedAt;
  tracker.enterPhase('readers picking up the merged segment');
  await fleet.caughtUp(index.stats().generation, CATCH_UP_MS, signal);
  tracker.enterPhase('done');
  return { loadMs, forceMergeMs, segmentsBefore, final: writerStatsOf(index), totalMs: performance.now() - startedAt };
}

/** The demo's running figures, from the index's events and its own counts. */
class DemoTracker {
  private phase = 'starting';
  private writtenKeys = 0;
  private flushed = 0;
  private lastMerge: string | undefined;
  readonly errors: string[] = [];
  private readonly startedAt = performance.now();
  private backpressureAt = Number.NEGATIVE_INFINITY;
  /** (time, keys written) at each view, for the rate over the last second. */
  private readonly window: Array<{ at: number; written: number }> = [];

  constructor(
    index: Index,
    private readonly total: number,
  ) {
    index.on('flush', (event) => (this.flushed += event.bytes));
    index.on('merge', (event) => (this.lastMerge = describeMerge(event)));
    index.on('backpressure', () => (this.backpressureAt = performance.now()));
    index.on('error', (error) => this.errors.push(error.message));
  }

  get written(): number {
    return this.writtenKeys;
  }

  get flushedBytes(): number {
    return this.flushed;
  }

  enterPhase(phase: string): void {
    this.phase = phase;
  }

  countWritten(keys: number): void {
    this.writtenKeys += keys;
  }

  view(stats: WriterIndexStats, fleet: ReaderFleet): DemoView {
    const now = performance.now();
    return {
      phase: this.phase,
      elapsedMs: now - this.startedAt,
      written: this.written,
      total: this.total,
      writesPerSecond: this.rate(now),
      generation: stats.generation,
      segmentBytes: stats.segments.map((segment) => segment.bytes),
      mergesRunning: stats.merges.running,
      mergesDone: stats.merges.completed,
      mergeBytes: stats.merges.bytesWritten,
      lastMerge: this.lastMerge,
      backpressure: now - this.backpressureAt < BACKPRESSURE_NOTE_MS,
      readers: fleet.count,
      latencySamples: fleet.latencies.count,
      p50Ms: fleet.latencies.percentile(50),
      p99Ms: fleet.latencies.percentile(99),
      clientWrites: fleet.writeLatencies.count,
      clientWriteP50Ms: fleet.writeLatencies.percentile(50),
      clientWriteP99Ms: fleet.writeLatencies.percentile(99),
    };
  }

  private rate(now: number): number {
    this.window.push({ at: now, written: this.written });
    while (this.window.length > 2 && now - this.window[1]!.at >= 1000) this.window.shift();
    const oldest = this.window[0]!;
    const seconds = (now - oldest.at) / 1000;
    return seconds > 0 ? (this.written - oldest.written) / seconds : 0;
  }
}

function describeMerge(event: MergeEvent): string {
  const output = event.output === undefined ? 'nothing (every entry was a dropped tombstone)' : `1 of ${formatBytes(event.bytes)}`;
  return `${event.inputs.length} segments → ${output} in ${formatDuration(event.durationMs)}`;
}

function summarize(
  directory: string,
  flags: DemoFlags,
  workload: DemoWorkload,
  tracker: DemoTracker,
  fleet: ReaderFleet,
  result: PhaseResult,
): DemoSummary {
  const { final } = result;
  const round = (value: number | undefined): number | null => (value === undefined ? null : Math.round(value * 10) / 10);
  return {
    directory,
    keys: tracker.written,
    batches: workload.batches,
    durability: final.durability,
    refreshIntervalMs: flags.refreshInterval,
    rate: flags.rate,
    loadMs: Math.round(result.loadMs),
    keysPerSecond: Math.round(tracker.written / (result.loadMs / 1000)),
    totalMs: Math.round(result.totalMs),
    flushes: final.flushes,
    flushedBytes: tracker.flushedBytes,
    merges: final.merges.completed,
    mergeBytes: final.merges.bytesWritten,
    writeAmplification: tracker.flushedBytes === 0 ? 1 : (tracker.flushedBytes + final.merges.bytesWritten) / tracker.flushedBytes,
    forceMerge: { segmentsBefore: result.segmentsBefore, durationMs: Math.round(result.forceMergeMs) },
    final: { generation: final.generation, segments: final.segments.length, bytes: final.segmentBytes },
    readers: {
      processes: fleet.count,
      samples: fleet.latencies.count,
      p50Ms: round(fleet.latencies.percentile(50)),
      p99Ms: round(fleet.latencies.percentile(99)),
      maxMs: round(fleet.latencies.percentile(100)),
      refreshes: fleet.refreshes,
      errors: [...fleet.errors, ...tracker.errors],
      writes: fleet.writeLatencies.count,
      writeP50Ms: round(fleet.writeLatencies.percentile(50)),
      writeP99Ms: round(fleet.writeLatencies.percentile(99)),
    },
    sampleKey: workload.keyOf(Math.min(42, flags.keys - 1)),
    samplePrefix: workload.keyOf(Math.min(42, flags.keys - 1)).slice(0, -1),
  };
}

/** The demo's process opened its index as the writer: its stats are the writer's. */
function writerStatsOf(index: Index): WriterIndexStats {
  const stats = index.stats();
  if (stats.role !== 'writer') throw new Error(`the demo's index is a ${stats.role}, not the writer`);
  return stats;
}
