import { EventEmitter } from 'node:events';
import { closeSync, openSync, watch } from 'node:fs';
import { join } from 'node:path';
import { tempDir, whenCondition } from '@silt/test-support';

/**
 * Resolves once every event the kernel queued for this process before the
 * call has been passed on, and the turn that coalesces wake-ups has run:
 * one inotify queue serves all of a process's watches, in order, so an event
 * on another directory, made now, comes after all of them.
 */
export async function eventsDrained(): Promise<void> {
  const sentinel = tempDir('watch-sentinel');
  const signals = new EventEmitter();
  let seen = false;
  const watcher = watch(sentinel, () => {
    seen = true;
    signals.emit('event');
  });
  try {
    closeSync(openSync(join(sentinel, 'poke'), 'w'));
    await whenCondition(signals, ['event'], () => seen, 'the sentinel event');
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    watcher.close();
  }
}
