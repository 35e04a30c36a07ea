import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { nextEvent, turnsUntil, whenCondition } from './events.js';

test('whenCondition resolves at the event after which the condition holds, and stops listening', async () => {
  const emitter = new EventEmitter();
  let count = 0;
  const waiting = whenCondition(emitter, ['tick', 'tock'], () => count >= 2, 'two ticks');
  count = 1;
  emitter.emit('tick');
  count = 2;
  emitter.emit('tock');
  await waiting;
  assert.equal(emitter.listenerCount('tick') + emitter.listenerCount('tock'), 0);
});

test('nextEvent resolves with the first argument of the next event', async () => {
  const emitter = new EventEmitter();
  const next = nextEvent<number>(emitter, 'value');
  emitter.emit('value', 42, 'ignored');
  assert.equal(await next, 42);
});

test('turnsUntil resolves at the first event-loop turn on which the condition holds', async () => {
  let checks = 0;
  let turns = 0;
  const counter = setImmediate(() => turns++);
  await turnsUntil(() => ++checks > 3, 'three turns');
  clearImmediate(counter);
  assert.equal(checks, 4, 'checked once a turn, and no more once it held');
  assert.equal(turns, 1, 'it waited for the event loop between checks');
});
