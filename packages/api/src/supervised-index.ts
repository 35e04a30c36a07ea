import { z } from 'zod';
import { parseWithSchema } from '@silt/segments/internal';

/** What `superviseIndex` needs of an index: `Index` has it. */
export interface ClosableIndex {
  close(): Promise<void>;
}

/**
 * pm2 sends SIGINT and, 1600 ms later (its default `kill_timeout`), SIGKILL:
 * the close gets most of that. A writer's close flushes at most 4 MiB (well
 * under 100 ms); whatever a close does not finish is still in the log.
 */
const DEFAULT_CLOSE_TIMEOUT_MS = 1400;

export const superviseOptionsSchema = z.strictObject({
  /** Signals that close the index and end the process. Default SIGINT (pm2, Ctrl-C) and SIGTERM (systemd, containers). */
  signals: z.array(z.enum(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'])).default(['SIGINT', 'SIGTERM']),
  /** Runs first when a signal comes: stop taking requests (close the HTTP server) here. */
  beforeClose: z.custom<() => unknown>((value) => typeof value === 'function', 'beforeClose must be a function').optional(),
  /** The longest the close may take before the process exits anyway. Default 1400 ms, inside pm2's default kill_timeout. */
  closeTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(DEFAULT_CLOSE_TIMEOUT_MS),
  /** Whether to end the process after the close (exit code 0, or 1 if the close failed or timed out). Default true. */
  exit: z.boolean().default(true),
});
export type SuperviseOptions = z.input<typeof superviseOptionsSchema>;

/**
 * For a process run by a supervisor such as pm2: tells it the process is
 * ready (`process.send('ready')`, which pm2's `wait_ready` waits for), and
 * on SIGINT or SIGTERM (or pm2's `shutdown` message, with
 * `shutdown_with_message`) runs `beforeClose`, closes the index, and ends
 * the process. Call it once the index is open and the process serves
 * (after your HTTP server listens). Returns a function that removes the
 * handlers. Every acknowledged write is safe however the process ends; a
 * clean close only spares the next open its replay, and lets a client of
 * this writer take over without waiting for the kernel to drop the lock.
 */
export function superviseIndex(index: ClosableIndex, options: SuperviseOptions = {}): () => void {
  const { signals, beforeClose, closeTimeoutMs, exit } = parseWithSchema(superviseOptionsSchema, options, 'superviseIndex options');
  let closing = false;
  const shutDown = (): void => {
    if (closing) return;
    closing = true;
    void closeWithin(index, beforeClose, closeTimeoutMs).then((code) => {
      if (exit) process.exit(code);
    });
  };
  const onMessage = (message: unknown): void => {
    if (message === 'shutdown') shutDown();
  };
  for (const signal of signals) process.on(signal, shutDown);
  process.on('message', onMessage);
  process.send?.('ready');
  return () => {
    for (const signal of signals) process.off(signal, shutDown);
    process.off('message', onMessage);
  };
}

/** 0 once `beforeClose` and the close are done, 1 if either failed or the time ran out. */
async function closeWithin(index: ClosableIndex, beforeClose: (() => unknown) | undefined, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      process.stderr.write(`silt: the index did not close within ${timeoutMs} ms of the signal; every acknowledged write is in its log\n`);
      resolve(1);
    }, timeoutMs);
  });
  const closed = (async () => {
    await beforeClose?.();
    await index.close();
    return 0;
  })().catch((error: unknown) => {
    process.stderr.write(`silt: closing the index at a signal failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  });
  try {
    return await Promise.race([closed, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
