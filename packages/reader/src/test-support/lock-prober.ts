import { LockError, WriterLock } from '@silt/segments';

/**
 * Tries to take the writer lock of the directory in argv[2] once, from
 * another process, and prints `held <pid>` if someone holds it or `free`
 * if it could take it (and lets it go at exit).
 */
try {
  WriterLock.acquire(process.argv[2]!).release();
  process.stdout.write('free\n');
} catch (error) {
  if (!(error instanceof LockError)) throw error;
  process.stdout.write(`held ${String(error.holderPid)}\n`);
}
