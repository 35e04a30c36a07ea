import type { ReadOnlyIndex, ReadOnlyIndexOptions, Key, Value } from 'silt';
import { ExitCode } from './errors.js';
import { openReader } from './index-access.js';
import type { Interrupts } from './interrupts.js';
import type { LineWriter } from './line-writer.js';
import { formatCount } from './formatting.js';

/** Entries between looks at the signal and the progress display. */
const CHECK_EVERY = 4096;

/**
 * Writes one line per entry, waiting for the stream when it is full;
 * returns how many were written. A signal stops it with an
 * InterruptedError saying how far it got.
 */
export async function writeEntries(
  entries: Iterable<[Key, Value]>,
  out: LineWriter,
  lineOf: (key: Key, value: Value) => string,
  interrupts: Interrupts,
  onProgress: (written: number) => void = () => undefined,
): Promise<number> {
  let written = 0;
  for (const [key, value] of entries) {
    await out.line(lineOf(key, value));
    written++;
    if (written % CHECK_EVERY === 0) {
      interrupts.throwIfInterrupted(`stopped after ${formatCount(written)} entries`);
      onProgress(written);
    }
  }
  await out.flush();
  onProgress(written);
  return written;
}

/**
 * Runs a command that writes entries with a reader of `directory`, closed
 * after. A reader of the output that goes away (`| head`) ends it with a
 * BrokenPipeError, which main reports as a quiet exit 0.
 */
export async function withEntryReader(
  directory: string,
  options: ReadOnlyIndexOptions,
  use: (reader: ReadOnlyIndex) => Promise<void>,
): Promise<number> {
  const reader = await openReader(directory, options);
  try {
    await use(reader);
    return ExitCode.ok;
  } finally {
    await reader.close();
  }
}
