/** How long a condition may stay false before the test calls itself stuck: far beyond any failover or pm2 command. */
export const STUCK_AFTER_MS = 60_000;
const POLL_MS = 25;

/**
 * Resolves once `condition()` holds; rejects after STUCK_AFTER_MS, saying
 * `what` and `state()`. For conditions only another process can make true
 * (an HTTP answer, pm2's process list), which send no event here.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, state: () => string = () => ''): Promise<void> {
  const stuckAt = Date.now() + STUCK_AFTER_MS;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > stuckAt) {
      const detail = state();
      throw new Error(`stuck waiting for ${what}${detail === '' ? '' : ` (${detail})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
