import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Manifest } from './manifest.js';
import { isProcessAlive } from './lease-liveness.js';
import { WriterLock } from './writer-lock.js';
import { ChildProgram, flush, merge, tempDir } from './test-support/manifest-fixtures.js';
import { commitNextStep, expectedRanges, summarize } from './test-support/manifest-workload.js';

const parseLease = (line: string): { id: number; pid: number; generation: number } => JSON.parse(line);

test('process liveness: this process and pid 1 are alive, a reaped child is dead, group pids are never probed', async () => {
  assert.equal(isProcessAlive(process.pid), true);
  // pid 1 belongs to root: kill(1, 0) fails with EPERM for others, which still means alive.
  assert.equal(isProcessAlive(1), true);
  const child = ChildProgram.start('manifest-lease-holder', ['/nonexistent/manifest.sqlite']);
  await child.exited();
  assert.equal(isProcessAlive(child.pid), false);
  for (const pid of [0, -1, 1.5, Number.NaN]) assert.equal(isProcessAlive(pid), false);
});

test('a lease held by a live reader process keeps its segments; once the reader is SIGKILLed its lease is void and reclaimed', async () => {
  const path = join(tempDir('dead-lease'), 'manifest.sqlite');
  using writer = Manifest.open(path);
  const [a, b] = flush(writer, [1, 10], [11, 20]);
  const reader = ChildProgram.start('manifest-lease-holder', [path]);
  const lease = parseLease(await reader.nextLine());
  assert.deepEqual({ pid: lease.pid, generation: lease.generation }, { pid: reader.pid, generation: 2 });
  merge(writer, [a!, b!]);
  assert.deepEqual(writer.collectable(), [], 'the live reader still needs a and b');
  assert.deepEqual(
    writer.liveLeases().map((l) => l.id),
    [lease.id],
  );

  assert.equal((await reader.kill()).signal, 'SIGKILL');
  assert.deepEqual(writer.liveLeases(), [], 'a dead pid holds nothing');
  assert.deepEqual(
    writer.collectable().map((s) => s.id),
    [a, b],
  );
  assert.deepEqual(writer.reclaimDeadLeases(), [], 'collectable() already reclaimed the dead lease');
  assert.throws(() => writer.moveLease(lease.id));
});

test('reclaimDeadLeases removes only the leases of dead pids', async () => {
  const path = join(tempDir('reclaim'), 'manifest.sqlite');
  using writer = Manifest.open(path);
  flush(writer, [1, 10]);
  const mine = writer.takeLease();
  const reader = ChildProgram.start('manifest-lease-holder', [path]);
  const theirs = parseLease(await reader.nextLine());
  await reader.kill();
  assert.deepEqual(
    writer.reclaimDeadLeases().map((l) => l.id),
    [theirs.id],
  );
  assert.deepEqual(
    writer.liveLeases().map((l) => l.id),
    [mine.id],
  );
});

test('a reader in another process only ever sees whole generations while the writer commits and collects', async () => {
  const path = join(tempDir('concurrent'), 'manifest.sqlite');
  const finalGeneration = process.env.SOAK === '1' ? 2_000 : 240;
  using writer = Manifest.open(path);
  const committed = new Map<number, string>([[0, summarize(writer.current())]]);
  const reader = ChildProgram.start('manifest-generation-reader', [path, String(finalGeneration)]);
  assert.equal(await reader.nextLine(), 'ready');
  for (let generation = 0; generation < finalGeneration;) {
    const next = commitNextStep(writer);
    generation = next.generation;
    committed.set(generation, summarize(next));
    assert.deepEqual(
      next.segments.map((s) => [s.minSequence, s.maxSequence]),
      expectedRanges(generation),
    );
    // Collect at once, as an eager collector would: old generations' rows go away under the reader.
    writer.markCollected(writer.collectable().map((segment) => segment.id));
    // Let the reader's output drain; the reader never waits for us otherwise.
    if (generation % 4 === 0) await yieldToEventLoop();
  }
  const lines = await reader.remainingLines();
  assert.equal((await reader.exited()).code, 0, reader.stderr);
  assert.ok(lines.length >= 1);
  for (const line of lines) {
    assert.ok(!line.startsWith('torn'), line);
    const seen = JSON.parse(line) as { generation: number };
    assert.equal(line, committed.get(seen.generation), `generation ${seen.generation} as read by the child`);
  }
  assert.equal((JSON.parse(lines.at(-1)!) as { generation: number }).generation, finalGeneration);
  assert.deepEqual(writer.liveLeases(), [], 'the reader dropped its lease');
});

test('a writer SIGKILLed in a tight commit loop leaves a manifest at its last acknowledged generation or later', async () => {
  const directory = tempDir('kill-commit');
  const path = join(directory, 'manifest.sqlite');
  const rounds = process.env.SOAK === '1' ? 20 : 4;
  let lastAcknowledged = 0;
  for (let round = 1; round <= rounds; round += 1) {
    const committer = ChildProgram.start('manifest-committer', [path]);
    // Let it commit a different number of generations each round, then kill it mid-loop.
    const target = lastAcknowledged + 3 + round * 5;
    for (let line = await committer.nextLine(); Number(line) < target; line = await committer.nextLine()) {
      lastAcknowledged = Math.max(lastAcknowledged, Number(line));
    }
    await committer.kill();
    for (const line of await committer.remainingLines()) lastAcknowledged = Math.max(lastAcknowledged, Number(line));

    // The lock is free at once, and the manifest opens whole.
    using lock = WriterLock.acquire(directory);
    using manifest = Manifest.open(path);
    const current = manifest.current();
    assert.ok(current.generation >= lastAcknowledged, `generation ${current.generation} < acknowledged ${lastAcknowledged}`);
    assert.deepEqual(
      current.segments.map((s) => [s.minSequence, s.maxSequence]),
      expectedRanges(current.generation),
    );
    for (let generation = Math.max(0, current.generation - 3); generation < current.generation; generation += 1) {
      assert.deepEqual(
        manifest.generationAt(generation).segments.map((s) => [s.minSequence, s.maxSequence]),
        expectedRanges(generation),
      );
    }
    lastAcknowledged = current.generation;
    lock.release();
  }
});
