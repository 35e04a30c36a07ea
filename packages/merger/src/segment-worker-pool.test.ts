import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { ClosedError, CorruptionError, CrashSimFileSystem, IoError, ValidationError, nodeFileSystem } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { WriteAheadLog, type WalEntry } from '@silt/wal';
import { SegmentReader } from '@silt/segments';
import { SegmentWorkerPool } from './segment-worker-pool.js';
import type { TaskOutcome } from './task-outcome.js';
import { MergeAbortedError, type MergeInput, type MergeRequest, type MergeResult } from './segment-merge.js';
import {
  digestOf,
  filesIn,
  mergeModel,
  put as putOperation,
  readOperations,
  tombstone,
  verifySegment,
  writeRun,
  type Operation,
} from './test-support/merge-fixtures.js';
import { tempDir } from '@silt/test-support';
import { MergePauseGate } from './test-support/merge-pause-gate.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const put = (key: string, value: string | Uint8Array): WalEntry =>
  typeof value === 'string'
    ? { kind: 'put', key: encode(key), value: encode(value), valueIsText: true }
    : { kind: 'put', key: encode(key), value };
const del = (key: string): WalEntry => ({ kind: 'delete', key: encode(key) });

async function logWith(dir: string, batches: WalEntry[][]): Promise<WriteAheadLog> {
  const wal = await WriteAheadLog.open(join(dir, 'wal'));
  for (const batch of batches) await wal.append(batch);
  return wal;
}

for (const where of ['a worker thread', 'this thread'] as const) {
  test(`a flush in ${where} writes the newest operation per key of exactly its log range`, async () => {
    const dir = tempDir('flush');
    mkdirSync(join(dir, 'segments'));
    const pool = new SegmentWorkerPool(where === 'this thread' ? { inProcessFs: new CrashSimFileSystem({ seed: 1 }) } : {});
    try {
      // Sequences 1..3 lie before the range; 4..9 are in it; 10 is after it.
      const wal = await logWith(dir, [
        [put('early', 'x')],
        [put('b', 'old'), put('gone', 'soon')],
        [put('b', 'new'), put('bin', Uint8Array.of(0, 255)), del('gone')],
        [put('a', '1'), put('c', 'é')],
        [del('early')],
        [put('late', 'after the range')],
      ]);
      const result = await pool.flush({
        walDirectory: join(dir, 'wal'),
        fromSequence: 4,
        toSequence: 9,
        segmentPath: join(dir, 'segments', '1.seg'),
      });
      await wal.close();
      assert.equal(result.minSequence, 4);
      assert.equal(result.maxSequence, 9);
      assert.equal(result.entries, 6);
      assert.equal(result.tombstones, 2);
      assert.deepEqual(result.minKey, encode('a'));
      assert.deepEqual(result.maxKey, encode('gone'));
      const reader = SegmentReader.open(result.path);
      assert.deepEqual(
        [...reader.range()],
        [
          ['a', '1'],
          ['b', 'new'],
          ['bin', Uint8Array.of(0, 255)],
          ['c', 'é'],
        ],
      );
      assert.deepEqual(reader.lookup('gone'), { kind: 'tombstone' });
      assert.deepEqual(reader.lookup('early'), { kind: 'tombstone' });
      assert.equal(reader.lookup('late'), undefined);
      reader.close();
    } finally {
      await pool.close();
    }
  });
}

test("flushes in a row on the flush thread, whose memory for the log each reuses, hold their own range's keys and no other's", async () => {
  const dir = tempDir('flush-arena');
  mkdirSync(join(dir, 'segments'));
  const pool = new SegmentWorkerPool();
  try {
    // Ranges of falling size, so a later flush reads into memory an earlier, larger one filled.
    const sizes = [400, 50, 200, 3];
    const batches = sizes.flatMap((size, range) =>
      Array.from({ length: size }, (_, i) => [put(`r${range}-${String(i).padStart(4, '0')}`, `value ${range}.${i}`)]),
    );
    const wal = await logWith(dir, batches);
    let from = 1;
    for (const [range, size] of sizes.entries()) {
      const result = await pool.flush({
        walDirectory: join(dir, 'wal'),
        fromSequence: from,
        toSequence: from + size - 1,
        segmentPath: join(dir, 'segments', `${range + 1}.seg`),
      });
      from += size;
      assert.deepEqual(result.minKey, encode(`r${range}-0000`));
      assert.deepEqual(result.maxKey, encode(`r${range}-${String(size - 1).padStart(4, '0')}`));
      using reader = SegmentReader.open(result.path);
      reader.verify();
      const entries = [...reader.range()];
      assert.equal(entries.length, size, `range ${range}`);
      entries.forEach(([key, value], i) => {
        assert.equal(key, `r${range}-${String(i).padStart(4, '0')}`);
        assert.equal(value, `value ${range}.${i}`);
      });
    }
    await wal.close();
  } finally {
    await pool.close();
  }
});

test('a closed pool refuses work', async () => {
  const pool = new SegmentWorkerPool();
  await pool.close();
  await assert.rejects(
    pool.flush({ walDirectory: '/nowhere', fromSequence: 1, toSequence: 1, segmentPath: '/nowhere/1.seg' }),
    ClosedError,
  );
});

const SOAK = process.env.SOAK === '1';

for (const where of ['a worker thread', 'this thread'] as const) {
  test(`a merge in ${where} writes the newest entry per key of its run, types and tombstones included`, async () => {
    const dir = tempDir('pool-merge');
    const history: Operation[][] = [
      [putOperation('a', 'old'), putOperation('b', Uint8Array.of(1)), putOperation('c', 'gone soon'), tombstone('z')],
      [putOperation('a', 'new'), tombstone('c'), putOperation('d', 'é')],
      [putOperation('b', Uint8Array.of(0, 255)), putOperation('e', '')],
    ];
    const inputs = await writeRun(dir, history);
    const pool = new SegmentWorkerPool(where === 'this thread' ? { inProcessFs: nodeFileSystem } : {});
    try {
      for (const dropTombstones of [false, true]) {
        const outputPath = join(dir, `out-${dropTombstones}.seg`);
        const result = await pool.merge({ inputs, outputPath, dropTombstones });
        assert.equal(result.empty, false);
        assert.deepEqual(readOperations(outputPath), mergeModel(history, dropTombstones));
        if (result.empty) continue;
        assert.deepEqual(result.minKey, new TextEncoder().encode('a'));
        assert.deepEqual(result.maxKey, new TextEncoder().encode(dropTombstones ? 'e' : 'z'));
        assert.equal(result.minSequence, inputs[0]!.minSequence);
        assert.equal(result.maxSequence, inputs[2]!.maxSequence);
        assert.equal(result.inputEntries, 9);
        assert.equal(result.droppedTombstones, dropTombstones ? 2 : 0);
      }
    } finally {
      await pool.close();
    }
  });
}

test('errors thrown in a merge worker arrive as their own classes, with their fields', async () => {
  const dir = tempDir('pool-typed');
  const inputs = await writeRun(dir, [[putOperation('a', '1')]]);
  const pool = new SegmentWorkerPool();
  try {
    // The file says 100..199; claiming 100..150 is caught in the worker, after the file is opened.
    await assert.rejects(
      pool.merge({ inputs: [{ ...inputs[0]!, maxSequence: 150 }], outputPath: join(dir, 'out.seg'), dropTombstones: false }),
      ValidationError,
    );
    // Missing input: IoError with the errno of its cause.
    await assert.rejects(
      pool.merge({ inputs: [{ ...inputs[0]!, path: join(dir, 'missing.seg') }], outputPath: join(dir, 'out.seg'), dropTombstones: false }),
      (error: unknown) => {
        assert.ok(error instanceof IoError);
        assert.equal(error.code, 'SILT_IO');
        assert.equal(error.errno, 'ENOENT');
        return true;
      },
    );
    assert.deepEqual(filesIn(dir), ['1.seg']);
  } finally {
    await pool.close();
  }
});

/** How `attempt` settled: its error, or a failure if it did not reject. */
async function rejectionOf(attempt: Promise<unknown>): Promise<unknown> {
  try {
    await attempt;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** What a caller can rely on in an error: its class, message and the fields a SiltError carries. */
function shapeOf(error: unknown): Record<string, unknown> {
  assert.ok(error instanceof Error);
  const fields = error as Error & Partial<Record<'code' | 'file' | 'offset' | 'errno' | 'path', unknown>>;
  return {
    class: error.constructor.name,
    name: error.name,
    message: error.message,
    code: fields.code,
    file: fields.file,
    offset: fields.offset,
    errno: fields.errno,
    path: fields.path,
    cause: error.cause === undefined ? undefined : shapeOf(error.cause),
  };
}

test('errors thrown in a flush worker arrive as their own classes, with their fields', async () => {
  const dir = tempDir('pool-flush-typed');
  const walDirectory = join(dir, 'wal');
  const segments = join(dir, 'segments');
  mkdirSync(segments);
  // Two log files: sequences 1..2 (two records, complete since rotation) and 3.
  const wal = await logWith(dir, [[put('a', '1')], [put('b', '2')]]);
  await wal.rotate();
  await wal.append([put('c', '3')]);
  await wal.close();
  const [olderName, newestName] = filesIn(walDirectory);
  assert.ok(olderName !== undefined && newestName !== undefined);
  const older = join(walDirectory, olderName);
  // Damage the second record's entry (its key byte): a file that is not the newest must be whole.
  const secondRecord = readFileSync(older).readUInt32LE(8);
  flipByte(older, secondRecord + 32 + 9);

  const requests = {
    corrupt: { walDirectory, fromSequence: 1, toSequence: 3, segmentPath: join(segments, '1.seg') },
    missingSequences: { walDirectory, fromSequence: 3, toSequence: 9, segmentPath: join(segments, '2.seg') },
    emptyRange: { walDirectory, fromSequence: 3, toSequence: 2, segmentPath: join(segments, '3.seg') },
    missingDirectory: { walDirectory, fromSequence: 3, toSequence: 3, segmentPath: join(dir, 'no-such-dir', '4.seg') },
  };
  const workers = new SegmentWorkerPool();
  const inThread = new SegmentWorkerPool({ inProcessFs: nodeFileSystem });
  try {
    const fromWorker = {
      corrupt: await rejectionOf(workers.flush(requests.corrupt)),
      missingSequences: await rejectionOf(workers.flush(requests.missingSequences)),
      emptyRange: await rejectionOf(workers.flush(requests.emptyRange)),
      missingDirectory: await rejectionOf(workers.flush(requests.missingDirectory)),
    };
    assert.ok(fromWorker.corrupt instanceof CorruptionError);
    assert.equal(fromWorker.corrupt.code, 'SILT_CORRUPTION');
    assert.equal(fromWorker.corrupt.file, older);
    assert.equal(fromWorker.corrupt.offset, secondRecord);
    assert.ok(fromWorker.missingSequences instanceof CorruptionError);
    assert.equal(fromWorker.missingSequences.file, walDirectory);
    assert.equal(fromWorker.missingSequences.offset, undefined);
    assert.ok(fromWorker.emptyRange instanceof ValidationError);
    assert.equal(fromWorker.emptyRange.code, 'SILT_VALIDATION');
    assert.ok(fromWorker.missingDirectory instanceof IoError);
    assert.equal(fromWorker.missingDirectory.code, 'SILT_IO');
    assert.equal(fromWorker.missingDirectory.errno, 'ENOENT');
    assert.equal(fromWorker.missingDirectory.path, requests.missingDirectory.segmentPath);
    assert.ok(fromWorker.missingDirectory.cause instanceof Error);

    // The same flushes on this thread throw the originals: the worker's must look the same to a caller.
    for (const [what, request] of Object.entries(requests)) {
      const original = await rejectionOf(inThread.flush(request));
      assert.deepEqual(shapeOf(fromWorker[what as keyof typeof requests]), shapeOf(original), what);
    }
    assert.deepEqual(filesIn(segments), [], 'no failed flush left a segment behind');
  } finally {
    await Promise.all([workers.close(), inThread.close()]);
  }
});

/** Inputs big enough that a merge takes a while (a few hundred ms): 4 segments of 15,000 keys, overlapping by half. */
async function largeRun(dir: string): Promise<MergeInput[]> {
  const random = new SeededRandom(7);
  const key = (i: number): string => `k${String(i).padStart(9, '0')}-${(i * 7919) % 100_003}`;
  const history = [0, 1, 2, 3].map((segment) =>
    Array.from({ length: 15_000 }, (_, i) => {
      const k = key(segment * 7_500 + i);
      return random.chance(0.05) ? tombstone(k) : putOperation(k, `${segment}:${'v'.repeat(90)}`);
    }),
  );
  return writeRun(dir, history);
}

function flipByte(path: string, offset: number): () => void {
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  const original = byte[0]!;
  writeSync(fd, Buffer.of(original ^ 0x5a), 0, 1, offset);
  closeSync(fd);
  return () => {
    const restore = openSync(path, 'r+');
    writeSync(restore, Buffer.of(original), 0, 1, offset);
    closeSync(restore);
  };
}

type Fault = 'abort' | 'damaged input' | 'output directory removed';

test(`merge workers that throw or are terminated mid-merge leave no output, keep the inputs intact, and the merge can be retried (${SOAK ? 90 : 21} cases)`, async () => {
  const root = tempDir('pool-faults');
  const inDir = join(root, 'in');
  const outDir = join(root, 'out');
  mkdirSync(inDir);
  mkdirSync(outDir);
  const inputs = await largeRun(inDir);
  const inputDigests = inputs.map((input) => digestOf(input.path));
  const inputNames = filesIn(inDir);
  const request: MergeRequest = { inputs, outputPath: join(outDir, 'merged.seg'), dropTombstones: false };
  const pool = new SegmentWorkerPool({ mergeThreads: 1 });
  const random = new SeededRandom(Number(process.env.SILT_TEST_SEED ?? 20261121));
  try {
    const reference = await pool.merge(request);
    assert.equal(reference.empty, false);
    const referenceDigest = digestOf(request.outputPath);
    rmSync(request.outputPath);
    const faults: Fault[] = ['abort', 'damaged input', 'output directory removed'];
    const cases = SOAK ? 90 : 21;
    for (let n = 0; n < cases; n++) {
      const fault = faults[n % faults.length]!;
      // Mostly with the merge stopped mid-output; now and then before the worker has begun.
      const at: number | undefined = random.chance(0.15) ? undefined : Math.floor(reference.entries * (0.02 + 0.68 * random.next()));
      const what: string = `case ${n}: ${fault} ${at === undefined ? 'before the merge began' : `after ${at} output entries`}`;
      let restore = (): void => {};
      const controller = new AbortController();
      if (fault === 'damaged input') {
        const victim = inputs[random.intBetween(0, inputs.length - 1)]!;
        const stats = statSync(victim.path);
        // Inside the data blocks (after the 32-byte header, well before the indexes): found mid-stream.
        restore = flipByte(victim.path, 32 + Math.floor(random.next() * stats.size * 0.6));
      }
      // A damaged input fails the merge by itself; the other faults come while the merge waits at `at`.
      const gate = fault === 'damaged input' || at === undefined ? undefined : new MergePauseGate(at);
      const merging = pool.merge(gate === undefined ? request : { ...request, pause: gate.pause }, { signal: controller.signal });
      if (gate !== undefined) assert.ok(await gate.reachedBefore(merging), `${what}: the merge ended before it reached the point`);
      if (fault === 'abort') controller.abort(new Error(what));
      if (fault === 'output directory removed') rmSync(outDir, { recursive: true, force: true });
      gate?.release();
      const expectedError = fault === 'abort' ? MergeAbortedError : fault === 'damaged input' ? CorruptionError : IoError;
      await assert.rejects(merging, expectedError, what);

      assert.deepEqual(nodeFileSystem.exists(outDir) ? filesIn(outDir) : [], [], `${what}: no output or temp file is left`);
      restore();
      assert.deepEqual(filesIn(inDir), inputNames, what);
      assert.deepEqual(
        inputs.map((input) => digestOf(input.path)),
        inputDigests,
        `${what}: the inputs are untouched`,
      );

      mkdirSync(outDir, { recursive: true });
      const retried: MergeResult = await pool.merge(request);
      assert.equal(retried.empty, false, what);
      assert.equal(digestOf(request.outputPath), referenceDigest, `${what}: the retried merge writes the same segment`);
      rmSync(request.outputPath);
    }
    for (const input of inputs) verifySegment(input.path);
  } finally {
    await pool.close();
  }
});

/**
 * Calls `hook` with each merge outcome once it has reached this thread, before
 * the pool's code after `await` sees it: the window between a worker
 * finishing and the caller getting the result. piscina has no event there,
 * so its `run` is wrapped while the test runs.
 */
function beforeThePoolSeesMergeOutcomes(hook: (outcome: TaskOutcome<MergeResult>) => void): () => void {
  const original = Piscina.prototype.run;
  Piscina.prototype.run = function run(this: Piscina, ...args: Parameters<Piscina['run']>) {
    const running = original.apply(this, args);
    if (args[1]?.name !== 'merge') return running;
    return running.then((outcome: TaskOutcome<MergeResult>) => {
      hook(outcome);
      return outcome;
    });
  };
  return () => {
    Piscina.prototype.run = original;
  };
}

/** A small run to merge, a pool that has merged it once (its thread is warm), and what that merge wrote. */
async function mergedOnce(label: string) {
  const root = tempDir(label);
  const inDir = join(root, 'in');
  const outDir = join(root, 'out');
  mkdirSync(inDir);
  mkdirSync(outDir);
  const history = [0, 1, 2].map((segment) =>
    Array.from({ length: 300 }, (_, i) =>
      i % 17 === 0 ? tombstone(`k${i + segment * 100}`) : putOperation(`k${i + segment * 100}`, `${segment}`),
    ),
  );
  const inputs = await writeRun(inDir, history);
  const request: MergeRequest = { inputs, outputPath: join(outDir, 'merged.seg'), dropTombstones: false };
  const pool = new SegmentWorkerPool({ mergeThreads: 1 });
  await pool.merge(request);
  const reference = { digest: digestOf(request.outputPath), bytes: statSync(request.outputPath).size };
  rmSync(request.outputPath);
  const inputDigests = inputs.map((input) => digestOf(input.path));
  /** The output is gone, the inputs are untouched, and the same merge then succeeds, writing the same file. */
  const assertNoOutputAndRetryable = async (): Promise<void> => {
    assert.deepEqual(filesIn(outDir), [], 'the finished output was removed');
    assert.deepEqual(
      inputs.map((input) => digestOf(input.path)),
      inputDigests,
      'the inputs are untouched',
    );
    const retried = await pool.merge(request);
    assert.equal(retried.empty, false);
    assert.equal(digestOf(request.outputPath), reference.digest, 'the retried merge writes the same segment');
    for (const input of inputs) verifySegment(input.path);
  };
  return { pool, request, reference, assertNoOutputAndRetryable };
}

test('an abort that arrives after the worker finished a merge, before its caller got the result, removes the output', async () => {
  const { pool, request, reference, assertNoOutputAndRetryable } = await mergedOnce('pool-late-abort');
  const controller = new AbortController();
  const seen: Array<{ ok: boolean; output: string | undefined }> = [];
  try {
    const restore = beforeThePoolSeesMergeOutcomes((outcome) => {
      seen.push({ ok: outcome.ok, output: existsSync(request.outputPath) ? digestOf(request.outputPath) : undefined });
      controller.abort(new Error('the caller gave up'));
    });
    try {
      const error = await rejectionOf(pool.merge(request, { signal: controller.signal }));
      assert.ok(error instanceof MergeAbortedError, `got ${String(error)}`);
      assert.equal(error.outputPath, request.outputPath);
    } finally {
      restore();
    }
    assert.deepEqual(
      seen,
      [{ ok: true, output: reference.digest }],
      'the abort came after the worker had written the whole output and reported success',
    );
    await assertNoOutputAndRetryable();
  } finally {
    await pool.close();
  }
});

test("an abort while a finished merge's result is on its way to the pool removes the output", async () => {
  const { pool, request, reference, assertNoOutputAndRetryable } = await mergedOnce('pool-abort-in-flight');
  const controller = new AbortController();
  try {
    // The warm thread gets the task at once. This thread then waits, handling no message (so
    // not the worker's result), until the worker has written the whole output; then aborts.
    const merging = pool.merge(request, { signal: controller.signal });
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const giveUpAt = Date.now() + 30_000;
    const outputIsWhole = (): boolean =>
      existsSync(request.outputPath) &&
      statSync(request.outputPath).size === reference.bytes &&
      digestOf(request.outputPath) === reference.digest;
    while (!outputIsWhole() && Date.now() < giveUpAt) Atomics.wait(pause, 0, 0, 1);
    assert.ok(outputIsWhole(), 'the worker wrote the whole output while this thread waited');
    controller.abort(new Error('the caller gave up'));
    await assert.rejects(merging, MergeAbortedError);
    await assertNoOutputAndRetryable();
  } finally {
    await pool.close();
  }
});

// A flush queued behind the paused merge would never finish: the timeout turns that into a failure.
test('a flush does not wait behind running merges, and merges beyond mergeThreads wait their turn', { timeout: 120_000 }, async () => {
  const dir = tempDir('pool-flush-beside-merges');
  const inputs = await largeRun(dir);
  mkdirSync(join(dir, 'segments'));
  const wal = await logWith(dir, [[put('x', '1'), del('y')]]);
  await wal.close();
  const pool = new SegmentWorkerPool({ mergeThreads: 1 });
  try {
    const first = join(dir, 'first.seg');
    const second = join(dir, 'second.seg');
    // The first merge stops halfway and holds the only merge thread; the second must queue behind it.
    const firstGate = new MergePauseGate(10_000);
    const secondGate = new MergePauseGate(0);
    let firstDone = false;
    const merges = [
      pool.merge({ inputs, outputPath: first, dropTombstones: true, pause: firstGate.pause }).finally(() => (firstDone = true)),
      pool.merge({ inputs, outputPath: second, dropTombstones: true, pause: secondGate.pause }),
    ];
    // Seen here only after the first merge's result was handled: piscina sends the next task from that same message.
    const secondBeganWhileFirstRan = secondGate.reached().then(() => {
      secondGate.release();
      return !firstDone;
    });
    assert.ok(await firstGate.reachedBefore(merges[0]!), 'the first merge reached its halfway point');
    const flushed = await pool.flush({
      walDirectory: join(dir, 'wal'),
      fromSequence: 1,
      toSequence: 2,
      segmentPath: join(dir, 'segments', '9.seg'),
    });
    assert.equal(flushed.entries, 2, 'the flush finished while the first merge held its thread');
    firstGate.release();
    await Promise.all(merges);
    assert.equal(await secondBeganWhileFirstRan, false, 'with mergeThreads 1 the second merge began only after the first ended');
    assert.equal(digestOf(first), digestOf(second));
  } finally {
    await pool.close();
  }
});

test('close() aborts running and queued merges, removing their outputs, then refuses work', async () => {
  const dir = tempDir('pool-close');
  const inputs = await largeRun(dir);
  const pool = new SegmentWorkerPool({ mergeThreads: 1 });
  const gate = new MergePauseGate(10_000);
  const running = pool.merge({ inputs, outputPath: join(dir, 'running.seg'), dropTombstones: false, pause: gate.pause });
  const queued = pool.merge({ inputs, outputPath: join(dir, 'queued.seg'), dropTombstones: false });
  assert.ok(await gate.reachedBefore(running), 'the first merge is halfway through');
  await pool.close();
  await assert.rejects(running, MergeAbortedError);
  await assert.rejects(queued, MergeAbortedError);
  assert.deepEqual(filesIn(dir), inputs.map((input) => input.path.slice(dir.length + 1)).sort());
  await assert.rejects(pool.merge({ inputs, outputPath: join(dir, 'late.seg'), dropTombstones: false }), ClosedError);
});

test('an already aborted signal, or an output that exists, refuses the merge before anything is written or removed', async () => {
  const dir = tempDir('pool-refuse');
  const inputs = await writeRun(dir, [[putOperation('a', '1')], [putOperation('b', '2')]]);
  const pool = new SegmentWorkerPool();
  try {
    await assert.rejects(
      pool.merge({ inputs, outputPath: join(dir, 'out.seg'), dropTombstones: false }, { signal: AbortSignal.abort() }),
      MergeAbortedError,
    );
    await assert.rejects(pool.merge({ inputs: [inputs[0]!], outputPath: inputs[1]!.path, dropTombstones: false }), ValidationError);
    assert.deepEqual(filesIn(dir), ['1.seg', '2.seg']);
    assert.deepEqual(readOperations(inputs[1]!.path), [putOperation('b', '2')], 'the existing file was not touched');
  } finally {
    await pool.close();
  }
});

test('mergeThreads must be a whole number of at least 1', () => {
  for (const mergeThreads of [0, -1, 1.5, Number.NaN]) assert.throws(() => new SegmentWorkerPool({ mergeThreads }), ValidationError);
});
