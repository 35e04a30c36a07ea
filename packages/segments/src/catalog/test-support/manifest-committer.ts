import { dirname } from 'node:path';
import { Manifest } from '../manifest.js';
import { WriterLock } from '../writer-lock.js';
import { commitNextStep } from './manifest-workload.js';

/**
 * Child program: the writer of a manifest, committing the test workload in
 * a tight loop forever and printing each generation number once its commit
 * has returned (so it is acknowledged). The parent SIGKILLs it at some point.
 */
const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: manifest-committer <manifest path>');

const lock = WriterLock.acquire(dirname(path));
const manifest = Manifest.open(path);
process.on('exit', () => lock.release());
for (;;) {
  const generation = commitNextStep(manifest);
  process.stdout.write(`${generation.generation}\n`);
}
