import { writeSync } from 'node:fs';
import { relative } from 'node:path';
import { z } from 'zod';
import { nodeFileSystem } from '@silt/fs';
import { repairIndex } from '../repair.js';
import { stepCountingFileSystem } from './crash-step-file-system.js';

/**
 * The repair the repair-kill test SIGKILLs: `repairIndex` on one index,
 * every file-system call counted as an I/O step (see
 * stepCountingFileSystem). It reports on stdout, with blocking writes so a
 * line printed is a line the parent gets:
 *
 *   k <step> <what> <file>  about to SIGKILL itself before I/O step <step>
 *   done <steps>            the repair finished, in <steps> I/O steps
 *
 * Any failure exits with code 2 and the error on stderr.
 */

const configSchema = z.strictObject({
  dir: z.string().min(1),
  /** SIGKILL itself just before this I/O step; 0 counts steps only. */
  killAtStep: z.number().int().min(0),
});

const config = configSchema.parse(JSON.parse(process.argv[2] ?? 'null'));

function print(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let at = 0; at < bytes.length;) at += writeSync(1, bytes, at);
}

// A child the parent forgot must not live on.
setTimeout(() => {
  writeSync(2, 'still running after 60 s\n');
  process.exit(2);
}, 60_000).unref();

const counter = stepCountingFileSystem(nodeFileSystem, config.killAtStep === 0 ? undefined : config.killAtStep, (step, what, path) =>
  print(`k ${step} ${what} ${relative(config.dir, path)}`),
);
try {
  await repairIndex(config.dir, { fs: counter.fs });
} catch (error) {
  writeSync(2, `repair failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
}
print(`done ${counter.steps()}`);
