import { ReadOnlyIndex } from 'silt';
import { isToReader, wallClockMs, type FromReader } from './protocol.js';

/**
 * A reader process of `silt demo`: a ReadOnlyIndex with default options,
 * as an application's reader would open it. The writer tells it which keys
 * it wrote and when; at each refresh (a file-system event on the manifest)
 * it looks which of them it can now read and reports how long they took.
 * The writer decides when it stops: Ctrl-C in the terminal reaches every
 * process of the group, and the writer closes readers before the index.
 */

process.on('SIGINT', () => undefined);

const send = (message: FromReader): void => {
  if (process.connected) process.send?.(message);
};

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: demo-reader <index directory>');

let reader: ReadOnlyIndex;
try {
  reader = await ReadOnlyIndex.open(directory);
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

/** Probes not visible yet: key → when the writer acknowledged it. */
const pending = new Map<string, number>();

function visibleLatencies(): number[] {
  const latencies: number[] = [];
  const now = wallClockMs();
  for (const [key, writtenAt] of pending) {
    if (!reader.has(key)) continue;
    latencies.push(now - writtenAt);
    pending.delete(key);
  }
  return latencies;
}

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= reader.close().finally(() => {
    if (process.connected) process.disconnect();
  });
  return stopping;
}

reader.on('refresh', (generation) => send({ type: 'refresh', generation, latenciesMs: visibleLatencies() }));
reader.on('error', (error) => send({ type: 'error', message: error.message }));
process.on('message', (message: unknown) => {
  if (!isToReader(message)) return;
  if (message.type === 'stop') {
    void stop();
    return;
  }
  pending.set(message.key, message.writtenAt);
  // The flush may have beaten this message here.
  if (reader.has(message.key)) send({ type: 'visible', latenciesMs: visibleLatencies() });
});
// The writer went away (killed): nothing to report to, so close and end.
process.on('disconnect', () => void stop());
send({ type: 'ready', generation: reader.generation });
