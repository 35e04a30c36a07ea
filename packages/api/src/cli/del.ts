import { ExitCode } from './exit-codes.js';
import { printJson, type CommandContext } from './command-context.js';
import { finishWrites, openWriter } from './index-directory.js';
import { prepareDelete } from '../write-batch.js';
import { plural } from './formatting.js';

/** `silt del <dir> <key...>`: deletes each key; says which of them were there. */
export async function runDel(directory: string, keys: readonly string[], context: CommandContext): Promise<number> {
  for (const key of keys) prepareDelete(key); // a bad argument deletes nothing
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
