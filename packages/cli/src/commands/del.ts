import { validateDelete } from 'silt';
import { ExitCode } from '../support/errors.js';
import { printJson, type CommandContext } from '../support/command-context.js';
import { finishWrites, openWriter } from '../support/index-access.js';
import { plural } from '../support/formatting.js';

/** `silt del <dir> <key...>`: deletes each key; says which of them were there. */
export async function runDel(directory: string, keys: readonly string[], context: CommandContext): Promise<number> {
  for (const key of keys) validateDelete(key); // a bad argument deletes nothing
  const index = await openWriter(directory, false);
  const results: Array<{ key: string; existed: boolean }> = [];
  const { generation } = await finishWrites(index, context.interrupts.signal, async () => {
    for (const key of keys) {
      context.interrupts.throwIfInterrupted(`${plural(results.length, 'key')} deleted, the rest not`);
      const existed = index.has(key);
      await index.delete(key);
      results.push({ key, existed });
    }
  });
  const absent = results.filter((result) => !result.existed).length;
  if (context.json) {
    await printJson(context, { deleted: results, generation });
  } else {
    const tail = absent === 0 ? '' : ` (${plural(absent, 'key was', 'keys were')} not there)`;
    await context.out.line(`deleted ${plural(results.length, 'key')} from ${directory}${tail}`);
  }
  return ExitCode.ok;
}
