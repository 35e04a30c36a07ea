import type { Key, Value } from 'silt';
import type { CommandContext } from '../support/command-context.js';
import { withEntryReader, writeEntries } from '../support/entry-output.js';
import { rangeOptionsOf, type RangeFlags } from '../support/option-parsers.js';
import { keyField, plainKey, plainValue, toRecord } from '../support/records.js';

export interface ScanFlags extends RangeFlags {
  readonly keysOnly?: boolean;
}

/**
 * `silt scan <dir>`: live entries in key order, one per line: `key<TAB>value`,
 * or JSON Lines records with `--json`. Reads one generation, beside a writer.
 */
export function runScan(directory: string, flags: ScanFlags, context: CommandContext): Promise<number> {
  return withEntryReader(directory, { keyEncoding: 'binary' }, async (reader) => {
    const lineOf = lineFormat(context.json, flags.keysOnly === true);
    await writeEntries(reader.range(rangeOptionsOf(flags)), context.out, lineOf, context.interrupts);
  });
}

function lineFormat(json: boolean, keysOnly: boolean): (key: Key, value: Value) => string {
  if (keysOnly) return json ? (key) => JSON.stringify(keyField(key)) : (key) => plainKey(key);
  return json ? (key, value) => JSON.stringify(toRecord(key, value)) : (key, value) => `${plainKey(key)}\t${plainValue(value)}`;
}
