import type { Key, Value } from '@silt/segments';
import { ExitCode } from './exit-codes.js';
import type { CommandContext } from './command-context.js';
import { BrokenPipeError } from './cli-errors.js';
import { writeEntries } from './entry-output.js';
import { openReader } from './index-directory.js';
import { rangeOptionsOf, type RangeFlags } from './option-parsers.js';
import { keyField, plainKey, plainValue, toRecord } from './records.js';

export interface ScanFlags extends RangeFlags {
  readonly keysOnly?: boolean;
}

/**
 * `silt scan <dir>`: live entries in key order, one per line: `key<TAB>value`,
 * or JSON Lines records with `--json`. Reads one generation, beside a writer.
 */
export async function runScan(directory: string, flags: ScanFlags, context: CommandContext): Promise<number> {
  const reader = await openReader(directory, { keyEncoding: 'binary' });
  try {
    const entries = reader.range(rangeOptionsOf(flags));
    const lineOf = lineFormat(context.json, flags.keysOnly === true);
    await writeEntries(entries, context.out, lineOf, context.interrupts);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof BrokenPipeError) return ExitCode.ok;
    throw error;
  } finally {
    await reader.close();
  }
}

function lineFormat(json: boolean, keysOnly: boolean): (key: Key, value: Value) => string {
  if (keysOnly) return json ? (key) => JSON.stringify(keyField(key)) : (key) => plainKey(key);
  return json ? (key, value) => JSON.stringify(toRecord(key, value)) : (key, value) => `${plainKey(key)}\t${plainValue(value)}`;
}
