import { writeSync } from 'node:fs';
import { relative } from 'node:path';
import { nodeFileSystem } from '@silt/fs';
import { Index } from '../index-handle.js';
import { stepCountingFileSystem } from './crash-step-file-system.js';
import { driveWorkload } from './crash-workload.js';
import { parseChildConfig } from './crash-child-protocol.js';

/**
 * The writer the process-kill test SIGKILLs. It opens the index with
 * frequent flushes, then runs the crash workload from `firstId` on until it
 * is killed, reporting on stdout (written with a blocking write(2), so a
 * line printed is a line the parent gets, however soon the kill comes):
 *
 *   ready <firstId>     the index is open (recovery done)
 *   i <id>              operations up to <id> are about to be issued
 *   a <id>              operation <id> was acknowledged (its promise resolved)
 *   f <segment> <seq>   a flush committed segment <segment>, covering the log up to <seq>
 *   m <generation>      a merge committed generation <generation>
 *   k <step> <what> <file>  about to SIGKILL itself before I/O step <step> (with `killAtStep`)
 *   done <steps>        a fixed workload (`lastId`) is issued and flushed, in <steps> I/O steps
 *
 * Any failure exits with code 2 and the error on stderr, so the parent,
 * which expects death by SIGKILL, reports it.
 */

const config = parseChildConfig(process.argv[2]);

/**
 * Not process.stdout: once the pipe is full (the parent busy checking
 * another index) it buffers in memory, and a SIGKILL loses what it holds,
 * so the parent would miss operations the child had issued.
 */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

function print(line: string): void {
  writeFully(1, `${line}\n`);
}

function die(what: string, error: unknown): never {
  writeFully(2, `${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
}

// A child the parent forgot must not live on.
setTimeout(() => die('still running after 120 s', 'the parent never killed it'), 120_000).unref();

// Counting steps routes every byte through this object, which also moves flush builds onto this thread.
const stepCounter =
  config.killAtStep === undefined
    ? undefined
    : stepCountingFileSystem(nodeFileSystem, config.killAtStep === 0 ? undefined : config.killAtStep, (step, what, path) =>
        print(`k ${step} ${what} ${relative(config.dir, path)}`),
      );
const index = await Index.open(config.dir, {
  durability: config.durability,
  refreshIntervalMs: config.refreshIntervalMs,
  memtableBytes: config.memtableBytes,
  walFileBytes: config.walFileBytes,
  ...(config.minRunLength === undefined ? {} : { mergePolicy: { minRunLength: config.minRunLength } }),
  ...(stepCounter === undefined ? {} : { fs: stepCounter.fs }),
}).catch((error: unknown) => die('open failed', error));
index.on('flush', (event) => print(`f ${event.segmentId} ${event.toSequence}`));
index.on('merge', (event) => print(`m ${event.generation}`));
index.on('error', (error) => die('the index failed', error));
print(`ready ${config.firstId}`);

let lastIssued = config.firstId - 1;
const lastId = config.lastId ?? Number.MAX_SAFE_INTEGER;
await driveWorkload(
  index,
  config.seed,
  config.firstId,
  {
    issuing: (id) => {
      lastIssued = id;
      print(`i ${id}`);
    },
    acknowledged: (id) => print(`a ${id}`),
    failed: (id, error) => die(`operation ${id} failed`, error),
  },
  () => lastIssued < lastId,
);
await index.flush().catch((error: unknown) => die('flush failed', error));
print(`done ${stepCounter?.steps() ?? 0}`);
// Wait to be killed, like every child here.
setInterval(() => undefined, 1000);
