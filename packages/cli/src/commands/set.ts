import { validatePut } from 'silt';
import { ExitCode } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { finishWrites, openWriter } from '../support/index-access.js';

/** `silt set <dir> <key> <value>`: creates the index if the directory is missing or empty. */
export async function runSet(directory: string, key: string, value: string, context: CommandContext): Promise<number> {
  validatePut(key, value); // a bad argument writes nothing, not even a new index directory
  const index = await openWriter(directory, true);
  const { generation } = await finishWrites(index, context.interrupts.signal, () => index.set(key, value));
  if (context.json) await printJson(context, { key, set: true, generation });
  else await context.out.line(`set ${JSON.stringify(key)} in ${directory} (generation ${generation}: readers see it now)`);
  return ExitCode.ok;
}
