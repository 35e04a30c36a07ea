import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CorruptionError, IoError, SiltError } from '@silt/fs';
import { WRITER_LOCK_FILE, WRITER_PID_FILE } from '@silt/fs';
import { LockError, WriterLock } from './writer-lock.js';
import { ChildProgram, tempDir } from './test-support/manifest-fixtures.js';

function assertLockedBy(directory: string, pid: number): void {
  assert.throws(
    () => WriterLock.acquire(directory),
    (error: unknown) => {
      assert.ok(error instanceof LockError);
      assert.ok(error instanceof SiltError);
      assert.equal(error.code, 'SILT_LOCKED');
      assert.equal(error.holderPid, pid);
      assert.match(error.message, new RegExp(`process ${pid}`));
      return true;
    },
  );
}

async function startHolder(directory: string): Promise<ChildProgram> {
  const holder = ChildProgram.start('lock-holder', [directory, 'hold']);
  assert.equal(await holder.nextLine(), `acquired ${holder.pid}`);
  return holder;
}

test('the first writer gets the lock, recorded under its pid', () => {
  const directory = tempDir('lock-first');
  const lock = WriterLock.acquire(directory);
  assert.equal(lock.holderPid, process.pid);
  assert.equal(lock.held, true);
  assert.equal(JSON.parse(readFileSync(join(directory, WRITER_PID_FILE), 'utf8')).pid, process.pid);
  assert.deepEqual(readdirSync(directory).sort(), [WRITER_LOCK_FILE, WRITER_PID_FILE]);
  lock.release();
  assert.equal(lock.held, false);
  assert.equal(existsSync(join(directory, WRITER_PID_FILE)), false);
  // The lock file stays, empty: its existence never means "locked".
  assert.equal(statSync(join(directory, WRITER_LOCK_FILE)).size, 0);
});

test('a second writer in the same process is refused at once, naming this process', () => {
  const directory = tempDir('lock-same');
  using _lock = WriterLock.acquire(directory);
  assertLockedBy(directory, process.pid);
  assertLockedBy(directory, process.pid);
});

test('a writer in a worker thread of this process is refused, naming this process', async () => {
  const directory = tempDir('lock-worker');
  using _lock = WriterLock.acquire(directory);
  const script = fileURLToPath(new URL('./test-support/lock-holder.js', import.meta.url));
  const worker = new Worker(script, { argv: [directory, 'exit'], stdout: true });
  let output = '';
  worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(worker, 'exit');
  assert.equal(output, `locked ${process.pid}\n`);
});

test('a released lock can be taken again, and release is idempotent', () => {
  const directory = tempDir('lock-again');
  const first = WriterLock.acquire(directory);
  first.release();
  first.release();
  const second = WriterLock.acquire(directory);
  assert.equal(second.held, true);
  second.release();
  {
    using _scoped = WriterLock.acquire(directory);
  }
  WriterLock.acquire(directory).release();
});

test('a lock held by another process refuses this one, and is free at once after that process is SIGKILLed', async () => {
  const directory = tempDir('lock-kill');
  const holder = await startHolder(directory);
  assertLockedBy(directory, holder.pid);
  const exit = await holder.kill();
  assert.equal(exit.signal, 'SIGKILL');
  const lock = WriterLock.acquire(directory);
  assert.equal(lock.holderPid, process.pid);
  lock.release();
});

test('a process that fails to take the lock held by this one is told this pid', async () => {
  const directory = tempDir('lock-parent');
  using _lock = WriterLock.acquire(directory);
  const contender = ChildProgram.start('lock-holder', [directory, 'hold']);
  assert.equal(await contender.nextLine(), `locked ${process.pid}`);
  assert.equal((await contender.exited()).code, 0);
});

test('a failed attempt in the holding process does not loosen the lock for other processes', async () => {
  // POSIX locks belong to the process and any close() of the file drops them
  // all; SQLite keeps the refused connection's descriptor open to avoid that.
  const directory = tempDir('lock-close');
  using _lock = WriterLock.acquire(directory);
  for (let attempt = 0; attempt < 3; attempt += 1) assertLockedBy(directory, process.pid);
  const contender = ChildProgram.start('lock-holder', [directory, 'hold']);
  assert.equal(await contender.nextLine(), `locked ${process.pid}`);
});

test('a holder that exits without releasing frees the lock', async () => {
  const directory = tempDir('lock-exit');
  const holder = ChildProgram.start('lock-holder', [directory, 'exit']);
  assert.equal(await holder.nextLine(), `acquired ${holder.pid}`);
  assert.equal((await holder.exited()).code, 0);
  WriterLock.acquire(directory).release();
});

test('a holder that releases and exits frees the lock and its pid record', async () => {
  const directory = tempDir('lock-release');
  const holder = ChildProgram.start('lock-holder', [directory, 'release']);
  assert.equal(await holder.nextLine(), `acquired ${holder.pid}`);
  await holder.exited();
  assert.equal(existsSync(join(directory, WRITER_PID_FILE)), false);
  WriterLock.acquire(directory).release();
});

test('processes racing for the lock: exactly one wins and every loser names it', async () => {
  const directory = tempDir('lock-race');
  const contenders = Array.from({ length: 4 }, () => ChildProgram.start('lock-holder', [directory, 'hold', '--wait']));
  for (const contender of contenders) assert.equal(await contender.nextLine(), 'waiting');
  for (const contender of contenders) contender.send('go');
  const outcomes = await Promise.all(contenders.map(async (contender) => ({ pid: contender.pid, line: await contender.nextLine() })));
  const winners = outcomes.filter((outcome) => outcome.line.startsWith('acquired'));
  assert.equal(winners.length, 1, JSON.stringify(outcomes));
  const winner = winners[0]!;
  for (const outcome of outcomes) {
    if (outcome !== winner) assert.equal(outcome.line, `locked ${winner.pid}`, JSON.stringify(outcomes));
  }
  assertLockedBy(directory, winner.pid);
});

test('a missing directory is an IoError and a foreign writer.lock a CorruptionError; neither is created or changed', () => {
  const root = tempDir('lock-bad');
  const missing = join(root, 'no-such-dir');
  assert.throws(() => WriterLock.acquire(missing), IoError);
  assert.equal(existsSync(missing), false);
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  const garbage = 'this is not an SQLite database, and it is long enough to have a header'.repeat(2);
  writeFileSync(join(foreign, WRITER_LOCK_FILE), garbage);
  assert.throws(
    () => WriterLock.acquire(foreign),
    (error: unknown) => {
      assert.ok(error instanceof CorruptionError);
      assert.match(error.message, /writer\.lock/);
      return true;
    },
  );
  assert.equal(readFileSync(join(foreign, WRITER_LOCK_FILE), 'utf8'), garbage);
});
