import { LockError, WriterLock } from '../writer-lock.js';

/**
 * Child program: tries to take the writer lock of a directory and prints
 * `acquired <pid>` or `locked <holder pid>`. Then, per its second argument:
 * `hold` keeps it until killed, `exit` exits without releasing it,
 * `release` releases it and exits. With `--wait`, it first prints `waiting` and waits for a
 * line on stdin, so several children can race at the same moment.
 */
const [directory, afterwards = 'hold', wait] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: lock-holder <directory> [hold|exit|release] [--wait]');

function attempt(): void {
  let lock: WriterLock;
  try {
    lock = WriterLock.acquire(directory!);
  } catch (error) {
    if (!(error instanceof LockError)) throw error;
    process.stdout.write(`locked ${error.holderPid}\n`);
    process.exit(0);
  }
  process.stdout.write(`acquired ${process.pid}\n`);
  if (afterwards === 'exit') process.exit(0);
  if (afterwards === 'release') {
    lock.release();
    process.exit(0);
  }
  setInterval(() => {}, 60_000);
}

if (wait === '--wait') {
  process.stdin.once('data', attempt);
  process.stdout.write('waiting\n');
} else attempt();
