import { ExitCode } from '../support/errors.js';
import { note, printJson, type CommandContext } from '../support/command-context.js';
import { openReader } from '../support/index-access.js';
import { plainValue, valueField } from '../support/records.js';

/** `silt get <dir> <key>`: the value on standard output; exit 3 when the key is absent. */
export async function runGet(directory: string, key: string, context: CommandContext): Promise<number> {
  const reader = await openReader(directory);
  try {
    const value = reader.get(key);
    if (context.json) {
      await printJson(context, value === undefined ? { key, found: false } : { key, found: true, ...valueField(value) });
    } else if (value === undefined) {
      note(context, `silt get: no key ${JSON.stringify(key)} in ${directory}`);
    } else {
      await context.out.line(plainValue(value));
    }
    return value === undefined ? ExitCode.notFound : ExitCode.ok;
  } finally {
    await reader.close();
  }
}
