import { AbortError, ChangesTooOldError, type Change, type ChangeSubscription, type ChangesOptions } from 'silt';
import { note, type CommandContext } from '../support/command-context.js';
import { ExitCode, RescanNeededError } from '../support/errors.js';
import { openReader } from '../support/index-access.js';
import type { LineWriter } from '../support/line-writer.js';
import { keyBoundsOf, type KeyBoundFlags } from '../support/option-parsers.js';
import { keyField, plainKey, plainValue, valueField, type KeyValueRecord } from '../support/records.js';

export interface WatchChangesFlags extends KeyBoundFlags {
  /** Resume after this sequence number (the one a stopped watch printed); default: from now. */
  readonly since?: number;
  /** Stop (exit 0) after this many changes; otherwise run until Ctrl-C. */
  readonly count?: number;
}

/** One line of `silt watch --changes --json`: the export record of the key, and the value or `deleted`. */
export type ChangeLine = { readonly sequence: number } & Pick<KeyValueRecord, 'key' | 'keyEncoding'> &
  (Pick<KeyValueRecord, 'value' | 'valueEncoding'> | { readonly deleted: true });

/**
 * `silt watch <dir> --changes`: the reader's change feed, a line per
 * acknowledged write (within the key bounds given), in sequence order,
 * from now or after `--since`. The feed reads the log itself, woken by
 * events on `wal/`, so a line appears within milliseconds of the write and
 * no flush is needed.
 */
export async function runWatchChanges(directory: string, flags: WatchChangesFlags, context: CommandContext): Promise<number> {
  const reader = await openReader(directory, { keyEncoding: 'binary', tail: false });
  // An open reader does not keep the process alive by design; this does, until the watch ends.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    const options: ChangesOptions = { ...keyBoundsOf(flags), signal: context.interrupts.signal };
    const subscription = reader.changes(flags.since === undefined ? options : { ...options, since: flags.since });
    const start = `following changes to ${directory} after sequence ${subscription.position}; a line per change (Ctrl-C stops)`;
    const rescan = `${context.invocation} watch ${directory} --changes, then ${context.invocation} scan ${directory}, and apply the changes on top`;
    return await follow(subscription, flags, context, { start, rescan });
  } finally {
    clearInterval(keepAlive);
    await reader.close();
  }
}

/** What the watch says on standard error: where it started (once the feed has not failed at once), and how to rescan. */
interface Notes {
  readonly start: string;
  readonly rescan: string;
}

async function follow(subscription: ChangeSubscription, flags: WatchChangesFlags, context: CommandContext, notes: Notes): Promise<number> {
  const lineOf = context.json ? (change: Change) => JSON.stringify(changeLine(change)) : plainChange;
  let printed = 0;
  let exitCode: number = ExitCode.ok;
  let started = false;
  // Said once the feed read its first change or waits for one, so a `since` too old is one line, not two.
  const sayStarted = (): void => {
    if (!started) note(context, notes.start);
    started = true;
  };
  try {
    while (flags.count === undefined || printed < flags.count) {
      const next = await nextFlushingWhenIdle(subscription, context.out, sayStarted);
      sayStarted();
      if (next.done === true) break;
      await context.out.line(lineOf(next.value));
      printed++;
    }
  } catch (error) {
    if (error instanceof ChangesTooOldError) throw new RescanNeededError(error.since, error.oldestAvailable, notes.rescan);
    if (!(error instanceof AbortError)) throw error;
    exitCode = context.interrupts.exitCode();
  } finally {
    subscription.close();
  }
  await context.out.flush();
  note(context, `stopped after sequence ${subscription.position}; resume with --since ${subscription.position}`);
  return exitCode;
}

const IDLE = Symbol('idle');

/**
 * The next change, writing out the lines gathered so far first if it is
 * not at hand (the feed waits for a write): a burst of changes goes out in
 * a few large writes, and each line is out by the time the watch waits.
 */
async function nextFlushingWhenIdle(
  subscription: ChangeSubscription,
  out: LineWriter,
  onWait: () => void,
): Promise<IteratorResult<Change, undefined>> {
  const next = subscription.next();
  // A change already read resolves within microtasks; setImmediate comes after them.
  const first = await Promise.race([next, new Promise<typeof IDLE>((resolve) => setImmediate(resolve, IDLE))]);
  if (first !== IDLE) return first;
  onWait();
  await out.flush();
  return next;
}

export function changeLine(change: Change): ChangeLine {
  const key = keyField(change.key);
  return change.deleted === true
    ? { sequence: change.sequence, ...key, deleted: true }
    : { sequence: change.sequence, ...key, ...valueField(change.value) };
}

/** `sequence<TAB>set<TAB>key<TAB>value`, or `sequence<TAB>del<TAB>key`: the words of the commands that make them. */
function plainChange(change: Change): string {
  if (change.deleted === true) return `${change.sequence}\tdel\t${plainKey(change.key)}`;
  return `${change.sequence}\tset\t${plainKey(change.key)}\t${plainValue(change.value)}`;
}
