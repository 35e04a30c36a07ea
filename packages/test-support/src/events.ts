import { once, type EventEmitter } from 'node:events';

/** How long a test waits for an event or a condition before it fails, rather than hanging. */
const WAIT_LIMIT_MS = 10_000;

/**
 * Resolves once `condition` holds, checked now and at each of `events` of
 * `emitter`; fails after 10 s, saying `what` and `state()`. The timer also
 * keeps the process alive meanwhile: an emitter's own watches and timers
 * may not.
 */
export async function whenCondition(
  emitter: EventEmitter,
  events: readonly string[],
  condition: () => boolean,
  what: string,
  state: () => string = () => '',
): Promise<void> {
  if (condition()) return;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      stop();
      resolve();
    };
    const timer = setTimeout(() => {
      stop();
      const detail = state();
      reject(new Error(`${what}: not within ${WAIT_LIMIT_MS / 1000} s${detail === '' ? '' : ` (${detail})`}`));
    }, WAIT_LIMIT_MS);
    const stop = (): void => {
      clearTimeout(timer);
      for (const event of events) emitter.off(event, check);
    };
    for (const event of events) emitter.on(event, check);
  });
}

/**
 * Resolves once `condition` holds, checked every event-loop turn, for a
 * state no event announces (a process that learns of another's write from
 * file-system events, say); fails after 10 s, saying `what`.
 */
export async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > WAIT_LIMIT_MS) throw new Error(`${what}: not within ${WAIT_LIMIT_MS / 1000} s`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The first argument of the next `event` of `emitter`, or a failure after 10 s. */
export async function nextEvent<T>(emitter: EventEmitter, event: string): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no ${event} event in ${WAIT_LIMIT_MS / 1000} s`)), WAIT_LIMIT_MS);
  try {
    const [value] = (await once(emitter, event, { signal: controller.signal })) as [T];
    return value;
  } finally {
    clearTimeout(timer);
  }
}
