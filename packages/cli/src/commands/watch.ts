import type { ReadOnlyIndex, RefreshChange } from 'silt';
import { ExitCode, UsageError } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { openReader } from '../support/index-access.js';
import { valueField } from '../support/records.js';
import { formatBytes, formatClock, plural } from '../support/formatting.js';
import type { WatchChangesFlags } from './watch-changes.js';

export interface WatchFlags extends WatchChangesFlags {
  /** Follow the change feed (a line per write) instead of the refreshes. */
  readonly changes?: boolean;
  /** Keys whose values each refresh line shows. */
  readonly key?: readonly string[];
  /** Stop (exit 0) after this many refreshes (with `changes`: changes); otherwise run until Ctrl-C. */
  readonly count?: number;
}

/** The options that only mean something for the change feed. */
const CHANGE_FEED_OPTIONS = ['prefix', 'gte', 'gt', 'lte', 'lt', 'since'] as const;

/** One line of `silt watch --json`. */
export interface WatchEvent {
  readonly event: 'watching' | 'refresh';
  readonly at: string;
  readonly generation: number;
  readonly segments: number;
  readonly bytes: number;
  readonly added: ReadonlyArray<{ readonly id: number; readonly bytes: number; readonly entries: number }>;
  readonly removed: readonly number[];
  readonly keys?: Readonly<Record<string, { value?: string; valueEncoding?: 'base64' } | null>>;
}

/**
 * `silt watch <dir>`: a ReadOnlyIndex that prints a line per refresh, the
 * way any reader process follows the writer: file-system events on the
 * manifest (and the safety poll). Each line says what the new generation
 * added and removed, as the refresh event reports it: a flush adds a
 * segment, a merge swaps several for one.
 */
export async function runWatch(directory: string, flags: WatchFlags, context: CommandContext): Promise<number> {
  checkCombination(flags);
  if (flags.changes === true) {
    const { runWatchChanges } = await import('./watch-changes.js');
    return runWatchChanges(directory, flags, context);
  }
  const reader = await openReader(directory, { watch: true });
  // An open reader does not keep the process alive by design; this does, until the watch ends.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    return await follow(reader, flags, context);
  } finally {
    clearInterval(keepAlive);
    await reader.close();
  }
}

/** A UsageError (exit 2, nothing opened) for options of one mode given to the other. */
function checkCombination(flags: WatchFlags): void {
  if (flags.changes === true) {
    if (flags.key !== undefined) throw new UsageError('--key shows values at each refresh; with --changes every line carries its value');
    return;
  }
  const given = CHANGE_FEED_OPTIONS.find((option) => flags[option] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} is for the change feed: add --changes`);
}

async function follow(reader: ReadOnlyIndex, flags: WatchFlags, context: CommandContext): Promise<number> {
  const unchanged = { previous: reader.generation, segments: reader.segments, added: [], removed: [] };
  let printing = print(context, describe('watching', reader.generation, unchanged, reader, flags));
  let refreshes = 0;
  let reachedCount: () => void = () => undefined;
  const counted = new Promise<void>((resolve) => (reachedCount = resolve));
  reader.on('refresh', (generation, change) => {
    const event = describe('refresh', generation, change, reader, flags);
    printing = printing.then(() => print(context, event));
    if (++refreshes === flags.count) reachedCount();
  });
  reader.on('error', (error) => {
    printing = printing.then(() =>
      context.out.line(`${formatClock(Date.now())}  refresh failed (still serving generation ${reader.generation}): ${error.message}`),
    );
  });
  const stopped = await Promise.race([counted.then(() => undefined), context.interrupts.whenInterrupted]);
  await printing;
  await context.out.flush();
  return stopped === undefined ? ExitCode.ok : context.interrupts.exitCode(stopped);
}

function describe(
  event: WatchEvent['event'],
  generation: number,
  change: RefreshChange,
  reader: ReadOnlyIndex,
  flags: WatchFlags,
): WatchEvent {
  const keys = flags.key === undefined ? undefined : Object.fromEntries(flags.key.map((key) => [key, valueOrNull(reader, key)]));
  return {
    event,
    at: new Date().toISOString(),
    generation,
    segments: change.segments.length,
    bytes: change.segments.reduce((sum, segment) => sum + segment.bytes, 0),
    added: change.added.map(({ id, bytes, entries }) => ({ id, bytes, entries })),
    removed: change.removed.map((segment) => segment.id),
    ...(keys === undefined ? {} : { keys }),
  };
}

function valueOrNull(reader: ReadOnlyIndex, key: string): { value?: string; valueEncoding?: 'base64' } | null {
  const value = reader.get(key);
  return value === undefined ? null : valueField(value);
}

async function print(context: CommandContext, event: WatchEvent): Promise<void> {
  if (context.json) await printJson(context, event);
  else await context.out.line(plainEvent(event));
  // Each line as it happens, also into a pipe.
  await context.out.flush();
}

function plainEvent(event: WatchEvent): string {
  const shape = `${plural(event.segments, 'segment')}, ${formatBytes(event.bytes)}`;
  const keys = Object.entries(event.keys ?? {})
    .map(
      ([key, field]) =>
        `  ${key}=${field === null ? '(absent)' : `${field.valueEncoding === 'base64' ? 'base64:' : ''}${field.value ?? ''}`}`,
    )
    .join('');
  if (event.event === 'watching')
    return `${formatClock(Date.parse(event.at))}  watching: generation ${event.generation}, ${shape}; a line per refresh (Ctrl-C stops)${keys}`;
  const added = event.added.map(
    (segment) => `+${segment.id} (${formatBytes(segment.bytes)}, ${plural(segment.entries, 'entry', 'entries')})`,
  );
  const removed = event.removed.map((id) => `−${id}`);
  const change = [...added, ...removed].join(' ') || 'no segment change';
  return `${formatClock(Date.parse(event.at))}  generation ${event.generation}  ${change}  → ${shape}${keys}`;
}
