import { IoError } from '@silt/fs';
import { Manifest } from '../manifest.js';
import { summarize } from './manifest-workload.js';

/**
 * Child program: a reader in another process. Reads the current generation
 * in a tight loop until it reaches the generation given, moving its lease as
 * it goes, and prints `ready`, then one summary line per generation it saw.
 * It checks what it can see by itself (ordered, disjoint ranges; a generation
 * never changes once seen) and prints `torn ...` if that ever fails.
 */
const [path, last] = process.argv.slice(2);
if (path === undefined || last === undefined) throw new Error('usage: manifest-generation-reader <manifest path> <last generation>');

const manifest = Manifest.open(path, { role: 'reader' });
const lease = manifest.takeLease();
const seen = new Map<number, string>();
let reads = 0;
process.stdout.write('ready\n');
for (;;) {
  const generation = manifest.current();
  reads += 1;
  const summary = summarize(generation);
  const before = seen.get(generation.generation);
  if (before === undefined) {
    seen.set(generation.generation, summary);
    process.stdout.write(`${summary}\n`);
  } else if (before !== summary) {
    process.stdout.write(`torn ${before} then ${summary}\n`);
  }
  for (let index = 1; index < generation.segments.length; index += 1) {
    if (generation.segments[index - 1]!.maxSequence >= generation.segments[index]!.minSequence) {
      process.stdout.write(`torn overlapping ${summary}\n`);
    }
  }
  if (reads % 16 === 0) moveLeaseUnlessBusy(lease.id);
  if (generation.generation >= Number(last)) break;
}
manifest.dropLease(lease.id);
manifest.close();

/**
 * A lease move can time out behind a writer that commits and checkpoints
 * back to back (SQLite's busy handler sleeps, the writer retakes the lock):
 * `ReadOnlyIndex` then moves it at its next refresh, and so does this loop.
 */
function moveLeaseUnlessBusy(leaseId: number): void {
  try {
    manifest.moveLease(leaseId);
  } catch (error) {
    if (!(error instanceof IoError && error.errno === 'SQLITE_BUSY')) throw error;
  }
}
