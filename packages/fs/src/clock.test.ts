import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, systemClock } from './clock.js';

test('a manual clock runs due timers in due order as it advances, each at its own time', () => {
  const clock = new ManualClock(100);
  const seen: string[] = [];
  clock.setTimer(30, () => seen.push(`b@${clock.now()}`));
  clock.setTimer(10, () => seen.push(`a@${clock.now()}`));
  clock.setTimer(30, () => seen.push(`c@${clock.now()}`));
  clock.advance(20);
  assert.deepEqual(seen, ['a@110']);
  assert.equal(clock.now(), 120);
  clock.advance(10);
  assert.deepEqual(seen, ['a@110', 'b@130', 'c@130']);
  assert.equal(clock.pendingTimers, 0);
});

test('a cancelled timer never runs, and a timer set by a timer runs in the same advance when due', () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  const cancel = clock.setTimer(5, () => seen.push(5));
  clock.setTimer(1, () => clock.setTimer(2, () => seen.push(clock.now())));
  cancel();
  clock.advance(10);
  assert.deepEqual(seen, [3]);
});

test('the system clock fires a timer and moves forward', async () => {
  const before = systemClock.now();
  await new Promise<void>((resolve) => systemClock.setTimer(1, resolve));
  assert.ok(systemClock.now() >= before);
});
