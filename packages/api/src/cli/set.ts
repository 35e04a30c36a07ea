import { ExitCode } from './exit-codes.js';
import { printJson, type CommandContext } from './command-context.js';
import { finishWrites, openWriter } from './index-directory.js';
import { preparePut } from '../write-batch.js';
import { MAX_VALUE_BYTES } from './write-arguments.js';

/** `silt set <dir> <key> <value>`: creates the index if the directory is missing or empty. */
export async function runSet(directory: string, key: string, value: string, context: CommandContext): Promise<number> {
  preparePut(key, value, MAX_VALUE_BYTES); // a bad argument writes nothing, not even a new index directory
  const index = await openWriter(directory, true);
  const { generation } = await finishWrites(index, context.interrupts.signal, () => index.set(key, value));
  if (context.json) await printJson(context, { key, set: true, generation });
  else await context.out.line(`set ${JSON.stringify(key)} in ${directory} (generation ${generation}: readers see it now)`);
  return ExitCode.ok;
}
