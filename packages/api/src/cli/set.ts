import { ExitCode } from './exit-codes.js';
import { printJson, type CommandContext } from './command-context.js';
import { finishWrites, openWriter } from './index-directory.js';
import { argumentPair } from './write-arguments.js';

/** `silt set <dir> <key> <value>`: creates the index if the directory is missing or empty. */
export async function runSet(directory: string, key: string, value: string, context: CommandContext): Promise<number> {
  argumentPair(key, value);
  const index = await openWriter(directory, true);
  let written = false;
  const { generation } = await finishWrites(index, context.interrupts.signal, async () => {
    await index.set(key, value);
    written = true;
  });
  if (context.json) await printJson(context, { key, set: written, generation });
  else await context.out.line(`set ${JSON.stringify(key)} in ${directory} (generation ${generation}: readers see it now)`);
  return ExitCode.ok;
}
