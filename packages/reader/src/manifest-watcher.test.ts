import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_JOURNAL_FILE, ManualClock, WRITER_LOCK_FILE, type CancelTimer } from '@silt/fs';
import { tempDir, whenCondition } from '@silt/test-support';
import { ManifestWatcher } from './manifest-watcher.js';
import { eventsDrained } from './test-support/events-drained.js';

const DEBOUNCE_MS = 10;
const POLL_MS = 60_000;

/** A manual clock that says when a timer is set: an event's check is one, so a test waits for it rather than for time. */
class SignallingClock extends ManualClock {
  readonly signals = new EventEmitter();

  override setTimer(delayMs: number, callback: () => void): CancelTimer {
    const cancel = super.setTimer(delayMs, callback);
    this.signals.emit('timer');
    return cancel;
  }

  whenPending(count: number, what: string): Promise<void> {
    return whenCondition(this.signals, ['timer'], () => this.pendingTimers === count, what);
  }
}

interface Watched {
  readonly watcher: ManifestWatcher;
  readonly clock: SignallingClock;
  readonly checks: () => number;
  readonly reports: Error[];
}

async function startWatcher(directory: string): Promise<Watched> {
  const clock = new SignallingClock();
  const reports: Error[] = [];
  let checks = 0;
  const watcher = await ManifestWatcher.start(directory, {
    debounceMs: DEBOUNCE_MS,
    pollIntervalMs: POLL_MS,
    clock,
    check: () => {
      checks++;
      return Promise.resolve(true);
    },
    report: (error) => reports.push(error),
  });
  return { watcher, clock, checks: () => checks, reports };
}

test('a manifest commit checks the manifest once its debounce is over; the other files of the index directory check nothing', async () => {
  const directory = tempDir('manifest-watcher-events');
  writeFileSync(join(directory, MANIFEST_JOURNAL_FILE), '');
  const { watcher, clock, checks, reports } = await startWatcher(directory);
  try {
    assert.equal(clock.pendingTimers, 1, 'the safety poll alone');

    for (let i = 0; i < 3; i++) appendFileSync(join(directory, WRITER_LOCK_FILE), 'x');
    mkdirSync(join(directory, 'segments'));
    await eventsDrained();
    assert.equal(clock.pendingTimers, 1, 'no check is due for files other than the manifest');

    appendFileSync(join(directory, MANIFEST_JOURNAL_FILE), 'a commit');
    await clock.whenPending(2, 'the check the commit schedules');
    clock.advance(DEBOUNCE_MS - 1);
    assert.equal(checks(), 0, 'not before the debounce is over');
    clock.advance(1);
    assert.equal(checks(), 1);
    assert.deepEqual(reports, []);
  } finally {
    await watcher.close();
  }
  assert.equal(clock.pendingTimers, 0, 'closing cancels the poll');
  appendFileSync(join(directory, MANIFEST_JOURNAL_FILE), 'a commit after closing');
  await eventsDrained();
  assert.equal(clock.pendingTimers, 0, 'a closed watcher schedules nothing');
});
