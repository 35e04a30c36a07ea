/**
 * The messages between `silt demo` (the writer) and its reader processes
 * (reader-process.ts: clients of the writer that read and also write), over
 * the IPC channel of `child_process.fork`.
 */

/** Writer → reader. */
export type ToReader =
  /** The writer's `mset` of batch `batch` resolved at `writtenAt` (wall clock, ms): how long until its first key was readable here? */
  | { readonly type: 'probe'; readonly batch: number; readonly writtenAt: number }
  /** The load is over: stop writing keys of your own, and say so once the last one was acknowledged. */
  | { readonly type: 'stopWriting' }
  /** Close the reader and exit. */
  | { readonly type: 'stop' };

/** Reader → writer. */
export type FromReader =
  | { readonly type: 'ready'; readonly generation: number }
  /** After each refresh: the generation now served, and the latencies of probes that became visible with it. */
  | { readonly type: 'refresh'; readonly generation: number; readonly latenciesMs: readonly number[] }
  /** The latencies of probes whose batch this reader could read (by tailing the log, usually before the probe came). */
  | { readonly type: 'visible'; readonly latenciesMs: readonly number[] }
  /** The reader's own writes, forwarded to the writer: how long each took to be acknowledged (and readable in the reader). */
  | { readonly type: 'wrote'; readonly latenciesMs: readonly number[] }
  /** The reader's own writes stopped, every one acknowledged (after 'stopWriting'). */
  | { readonly type: 'stoppedWriting' }
  | { readonly type: 'error'; readonly message: string };

/**
 * Milliseconds since the epoch with sub-millisecond precision, comparable
 * between processes on one machine: both sides add their monotonic clock to
 * their process's own time origin.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

function isRecord(message: unknown): message is Record<string, unknown> {
  return typeof message === 'object' && message !== null;
}

export function isToReader(message: unknown): message is ToReader {
  if (!isRecord(message)) return false;
  if (message.type === 'stop' || message.type === 'stopWriting') return true;
  return message.type === 'probe' && typeof message.batch === 'number' && typeof message.writtenAt === 'number';
}

export function isFromReader(message: unknown): message is FromReader {
  if (!isRecord(message)) return false;
  switch (message.type) {
    case 'ready':
      return typeof message.generation === 'number';
    case 'refresh':
      return typeof message.generation === 'number' && Array.isArray(message.latenciesMs);
    case 'visible':
    case 'wrote':
      return Array.isArray(message.latenciesMs);
    case 'error':
      return typeof message.message === 'string';
    case 'stoppedWriting':
      return true;
    default:
      return false;
  }
}
