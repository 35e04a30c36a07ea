import { formatBytes, formatCount, formatDuration, plural } from '../support/formatting.js';

/** What `silt demo --json` prints, and what the summary is made from. */
export interface DemoSummary {
  readonly directory: string;
  readonly keys: number;
  readonly batches: number;
  readonly durability: string;
  readonly refreshIntervalMs: number;
  /** The pace asked for with --rate, keys per second; 0: unpaced. */
  readonly rate: number;
  readonly loadMs: number;
  readonly keysPerSecond: number;
  readonly totalMs: number;
  readonly flushes: number;
  readonly flushedBytes: number;
  readonly merges: number;
  readonly mergeBytes: number;
  /** (flushed + merged bytes) / flushed bytes: how often each byte was written to a segment. */
  readonly writeAmplification: number;
  readonly forceMerge: { readonly segmentsBefore: number; readonly durationMs: number };
  readonly final: { readonly generation: number; readonly segments: number; readonly bytes: number };
  readonly readers: {
    readonly processes: number;
    readonly samples: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
    readonly maxMs: number | null;
    readonly refreshes: number;
    readonly errors: readonly string[];
    /** The reader processes' own writes, forwarded to the writer, and how long each took to be acknowledged. */
    readonly writes: number;
    readonly writeP50Ms: number | null;
    readonly writeP99Ms: number | null;
  };
  /** A key to try `get` on. */
  readonly sampleKey: string;
  readonly samplePrefix: string;
}

/** The "what just happened" text, and the commands to explore the index with. */
export function summaryLines(summary: DemoSummary, invocation: string): string[] {
  const { readers } = summary;
  const dir = /^[\w./-]+$/.test(summary.directory) ? summary.directory : JSON.stringify(summary.directory);
  const lines = [
    '',
    `Done in ${formatDuration(summary.totalMs)}. The index is in ${summary.directory}: ${plural(summary.final.segments, 'segment')}, ${formatBytes(summary.final.bytes)}, generation ${summary.final.generation}.`,
    '',
    'What just happened',
    `  1. This process, the writer, loaded ${plural(summary.keys, 'key')} in ${plural(summary.batches, 'atomic batch', 'atomic batches')} (mset) at ${formatCount(summary.keysPerSecond)} keys/s`,
    `     (${summary.rate > 0 ? `paced to ${formatCount(summary.rate)}/s by --rate, as an application writing steadily; --rate 0 loads flat out` : 'flat out: --rate 0'}).`,
    `     Each batch went to the write-ahead log (wal/) and was acknowledged once the OS had it`,
    `     (durability '${summary.durability}': it survives a crash of this process; 'fsync' also survives power loss).`,
    `  2. Every ${formatDuration(summary.refreshIntervalMs)} the flusher sealed the new writes into an immutable, sorted segment`,
    `     (segments/*.seg), fsynced it and committed it to the manifest (manifest.sqlite) as a new generation: ${plural(summary.flushes, 'flush', 'flushes')}.`,
    `  3. Merge workers folded runs of segments together in the background, never blocking writes:`,
    `     ${plural(summary.merges, 'merge')}, ${formatBytes(summary.mergeBytes)} written (write amplification ${summary.writeAmplification.toFixed(2)}).`,
  ];
  if (readers.processes > 0) {
    const latency =
      readers.p50Ms === null || readers.p99Ms === null
        ? 'no write was timed'
        : `a write was readable there p50 ${formatDuration(readers.p50Ms)}, p99 ${formatDuration(readers.p99Ms)} after the writer's mset resolved (${plural(readers.samples, 'sample')})`;
    const forwarded =
      readers.writeP50Ms === null || readers.writeP99Ms === null
        ? 'none was acknowledged'
        : `acknowledged p50 ${formatDuration(readers.writeP50Ms)}, p99 ${formatDuration(readers.writeP99Ms)}`;
    lines.push(
      `  4. ${plural(readers.processes, 'other process', 'other processes')} opened the same directory (Index.open, default options): this one held the writer`,
      `     lock, so they became its clients. They read locally, tailing the write-ahead log, woken by a file-system`,
      `     event at each group commit, with no flush needed: ${latency}.`,
      `     They also wrote keys of their own (client/<pid>/…), forwarded over writer.sock and group-committed with`,
      `     the writer's: ${plural(readers.writes, 'write')}, ${forwarded}. Had this process died, one of them would have`,
      `     taken the lock and become the writer. They moved to each flush's or merge's generation in one step (${plural(readers.refreshes, 'refresh', 'refreshes')}).`,
    );
    for (const error of readers.errors) lines.push(`     reader error: ${error}`);
  }
  lines.push(
    `  ${readers.processes > 0 ? 5 : 4}. forceMerge(1) merged the last ${plural(summary.forceMerge.segmentsBefore, 'segment')} into one in ${formatDuration(summary.forceMerge.durationMs)}: what \`silt compact\` does.`,
    '',
    'Explore it (reads work while a writer runs):',
    `  ${invocation} stats ${dir}`,
    `  ${invocation} get ${dir} ${summary.sampleKey}`,
    `  ${invocation} scan ${dir} --prefix ${summary.samplePrefix} --limit 5`,
    `  ${invocation} verify ${dir}`,
    `  ${invocation} watch ${dir} --changes        and, in another terminal:  ${invocation} set ${dir} hello world`,
  );
  return lines;
}
