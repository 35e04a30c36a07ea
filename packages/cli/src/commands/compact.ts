import type { Index, IndexStats } from 'silt';
import { ExitCode, InterruptedError } from '../support/errors.js';
import { note, printJson, type CommandContext } from '../support/command-context.js';
import { unlessAborted } from '../support/interrupts.js';
import { finishWrites, openWriter } from '../support/index-access.js';
import { Progress } from '../support/progress.js';
import { formatBytes, formatDuration, plural } from '../support/formatting.js';

/** `silt compact --json`: the index before and after. */
export interface CompactReport {
  readonly before: { readonly segments: number; readonly bytes: number };
  readonly after: { readonly segments: number; readonly bytes: number };
  readonly merges: number;
  readonly generation: number;
  readonly durationMs: number;
}

/**
 * `silt compact <dir> [--segments n]`: `forceMerge(n)` as the writer, with
 * progress per merge. Needs the writer lock: with an application writing,
 * call `index.forceMerge()` there instead. Ctrl-C aborts the running merges
 * (a merge only rewrites: nothing is lost) and closes the index.
 */
export async function runCompact(directory: string, target: number, context: CommandContext): Promise<number> {
  const startedAt = performance.now();
  const index = await openWriter(directory, false, { autoMerge: false });
  const before = index.stats();
  let merges = 0;
  const progress = Progress.start(context, {
    title: 'compacting',
    total: Math.max(0, before.segments.length - target),
    unit: 'segments merged away',
  });
  index.on('merge', () => {
    merges++;
    progress.update(before.segments.length - index.stats().segments.length);
  });
  let after: IndexStats;
  try {
    after = await finishWrites(index, context.interrupts.signal, () => forceMergeUnlessInterrupted(index, target, context));
  } catch (error) {
    progress.stop();
    throw error;
  }
  progress.done();
  const report: CompactReport = {
    before: { segments: before.segments.length, bytes: before.segmentBytes },
    after: { segments: after.segments.length, bytes: after.segmentBytes },
    merges,
    generation: after.generation,
    durationMs: Math.round(performance.now() - startedAt),
  };
  if (context.json) await printJson(context, report);
  else await context.out.line(describeCompaction(directory, report));
  if (merges === 0 && !context.json)
    note(context, `nothing to merge: ${plural(before.segments.length, 'segment')}, the target is ${target}`);
  return ExitCode.ok;
}

/** A signal stops the wait; closing the index (finishWrites) then aborts the merges. */
async function forceMergeUnlessInterrupted(index: Index, target: number, context: CommandContext): Promise<void> {
  if (await unlessAborted(index.forceMerge(target), context.interrupts.signal)) return;
  throw new InterruptedError(
    await context.interrupts.whenInterrupted,
    'the merges running were aborted; the index is as the last finished merge left it',
  );
}

function describeCompaction(directory: string, report: CompactReport): string {
  const { before, after } = report;
  return (
    `compacted ${directory}: ${plural(before.segments, 'segment')} (${formatBytes(before.bytes)}) → ` +
    `${plural(after.segments, 'segment')} (${formatBytes(after.bytes)}) in ${plural(report.merges, 'merge')}, ${formatDuration(report.durationMs)}`
  );
}
