import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, ManualClock, WAL_DIRECTORY, nodeFileSystem } from '@silt/fs';
import { tempDir, whenCondition } from '@silt/test-support';
import { LogWatcher } from './log-watcher.js';
import { eventsDrained } from './test-support/events-drained.js';

/** A log directory with its marker open for writing, as a writer rewrites it at each group commit. */
function logDirectory(label: string): { directory: string; rewriteMarker: () => void; close: () => void } {
  const directory = tempDir(label);
  mkdirSync(join(directory, WAL_DIRECTORY));
  const marker = openSync(join(directory, WAL_DIRECTORY, LOG_ACKNOWLEDGED_FILE), 'w');
  return { directory, rewriteMarker: () => writeSync(marker, Buffer.alloc(24, 1), 0, 24, 0), close: () => closeSync(marker) };
}

const ONLY_ON_LINUX = process.platform === 'linux' ? false : 'a watch pauses on Linux only';

test(
  'a paused log watcher wakes its owner for no commit until it resumes, and resuming wakes no one by itself',
  { skip: ONLY_ON_LINUX },
  async () => {
    const log = logDirectory('log-watcher-pause');
    const signals = new EventEmitter();
    let wakes = 0;
    const woken = (count: number, what: string): Promise<void> => whenCondition(signals, ['wake'], () => wakes === count, what);
    const watcher = LogWatcher.start(log.directory, {
      fs: nodeFileSystem,
      pollIntervalMs: 60_000,
      clock: new ManualClock(),
      wake: () => {
        wakes++;
        signals.emit('wake');
      },
      report: (error) => assert.fail(error),
    });
    try {
      await woken(1, 'the wake-up that reads what came before the watch');
      log.rewriteMarker();
      await woken(2, 'a wake-up for a commit');

      watcher.pause();
      for (let i = 0; i < 5; i++) log.rewriteMarker();
      await eventsDrained();
      assert.equal(wakes, 2, 'commits while paused wake no one');

      watcher.resume();
      await eventsDrained();
      assert.equal(wakes, 2, 'resuming wakes no one: its owner reads the log itself right after');

      log.rewriteMarker();
      await woken(3, 'a wake-up for a commit after resuming');
    } finally {
      watcher.close();
      log.close();
    }
  },
);
