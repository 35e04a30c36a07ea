import type { ReadOnlyIndex } from '@silt/reader';
import type { Generation, Manifest, SegmentRecord } from '@silt/segments';
import { ExitCode } from './exit-codes.js';
import { printJson, type CommandContext } from './command-context.js';
import { openReader } from './index-directory.js';
import { withManifest } from './index-files.js';
import { valueField } from './records.js';
import { formatBytes, formatClock, plural } from './formatting.js';

export interface WatchFlags {
  /** Keys whose values each line shows. */
  readonly key?: readonly string[];
  /** Stop (exit 0) after this many refreshes; otherwise run until Ctrl-C. */
  readonly count?: number;
}

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
 * added and removed: a flush adds a segment, a merge swaps several for one.
 */
export async function runWatch(directory: string, flags: WatchFlags, context: CommandContext): Promise<number> {
  const reader = await openReader(directory, { watch: true });
  // An open reader does not keep the process alive by design; this does, until the watch ends.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    return await withManifest(directory, (manifest) => follow(reader, manifest, flags, context));
  } finally {
    clearInterval(keepAlive);
    await reader.close();
  }
}

async function follow(reader: ReadOnlyIndex, manifest: Manifest, flags: WatchFlags, context: CommandContext): Promise<number> {
  let previous = manifest.generationAt(reader.generation);
  let printing = print(context, describe('watching', previous, [], reader, flags));
  let refreshes = 0;
  let reachedCount: () => void = () => undefined;
  const counted = new Promise<void>((resolve) => (reachedCount = resolve));
  reader.on('refresh', (generationNumber) => {
    const generation = manifest.generationAt(generationNumber);
    const event = describe('refresh', generation, previous.segments, reader, flags);
    previous = generation;
    printing = printing.then(() => print(context, event));
    if (++refreshes === flags.count) reachedCount();
  });
  reader.on('error', (error) => {
    printing = printing.then(() => context.out.line(`${formatClock(Date.now())}  refresh failed (still serving generation ${reader.generation}): ${error.message}`));
  });
  const stopped = await Promise.race([counted.then(() => undefined), context.interrupts.whenInterrupted]);
  await printing;
  await context.out.flush();
  return stopped === undefined ? ExitCode.ok : context.interrupts.exitCode(stopped);
}

function describe(event: WatchEvent['event'], generation: Generation, before: readonly SegmentRecord[], reader: ReadOnlyIndex, flags: WatchFlags): WatchEvent {
  const beforeIds = new Set(before.map((segment) => segment.id));
  const nowIds = new Set(generation.segments.map((segment) => segment.id));
  const added = event === 'watching' ? [] : generation.segments.filter((segment) => !beforeIds.has(segment.id));
  const keys = flags.key === undefined ? undefined : Object.fromEntries(flags.key.map((key) => [key, valueOrNull(reader, key)]));
  return {
    event,
    at: new Date().toISOString(),
    generation: generation.generation,
    segments: generation.segments.length,
    bytes: generation.segments.reduce((sum, segment) => sum + segment.bytes, 0),
    added: added.map(({ id, bytes, entries }) => ({ id, bytes, entries })),
    removed: before.filter((segment) => !nowIds.has(segment.id)).map((segment) => segment.id),
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
    .map(([key, field]) => `  ${key}=${field === null ? '(absent)' : `${field.valueEncoding === 'base64' ? 'base64:' : ''}${field.value ?? ''}`}`)
    .join('');
  if (event.event === 'watching') return `${formatClock(Date.parse(event.at))}  watching: generation ${event.generation}, ${shape}; a line per refresh (Ctrl-C stops)${keys}`;
  const added = event.added.map((segment) => `+${segment.id} (${formatBytes(segment.bytes)}, ${plural(segment.entries, 'entry', 'entries')})`);
  const removed = event.removed.map((id) => `−${id}`);
  const change = [...added, ...removed].join(' ') || 'no segment change';
  return `${formatClock(Date.parse(event.at))}  generation ${event.generation}  ${change}  → ${shape}${keys}`;
}
