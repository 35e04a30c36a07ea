import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Entries handed over before an async iteration lets the event loop run:
 * a long range then never holds timers, I/O and other requests back for
 * more than a few milliseconds, while a short one costs no extra turn.
 */
const ENTRIES_PER_TURN = 1024;

/**
 * `for await` over a synchronous (pinned) iterator: the same entries, with
 * a turn of the event loop every ENTRIES_PER_TURN of them. Leaving the loop
 * early (`break`, a throw) ends the iterator beneath, so the snapshot it
 * pins is let go.
 */
export async function* asyncEntries<T>(entries: IterableIterator<T>): AsyncGenerator<T, undefined, undefined> {
  try {
    let handed = 0;
    for (const entry of entries) {
      yield entry;
      if (++handed % ENTRIES_PER_TURN === 0) await nextTurn();
    }
  } finally {
    entries.return?.();
  }
  return undefined;
}
