import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FaultInjectingFileSystem, IoError, ValidationError, fileMappingSupport, nodeFileSystem, type FaultRule } from '@silt/fs';
import { nativeEntryMerge } from '@silt/fs/internal';
import { buildPathOf } from '@silt/segments';
import { tempDir } from '@silt/test-support';
import { mergeSegments, MergeAbortedError, type MergeInput, type MergeRequest, type MergeResult } from './segment-merge.js';
import {
  filesIn,
  mergeModel,
  put,
  readOperations,
  tombstone,
  verifySegment,
  writeRun,
  type Operation,
} from './test-support/merge-fixtures.js';
import { MergePauseGate } from './test-support/merge-pause-gate.js';

const SOAK = process.env.SOAK === '1';

const keyArbitrary = fc.oneof(
  // A small alphabet, so segments overwrite and delete each other's keys.
  fc.constantFrom('a', 'b', 'c', 'ab', 'ba', 'é', '\u{1F600}').map((key) => new TextEncoder().encode(key)),
  fc.uint8Array({ minLength: 0, maxLength: 6 }),
);
const valueArbitrary = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.uint8Array({ maxLength: 12 }));
const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: keyArbitrary, value: valueArbitrary }),
  fc.record({ kind: fc.constant('tombstone' as const), key: keyArbitrary }),
);

test('a merge equals the newest-wins Map model of its inputs, keeping tombstones unless told to drop them; both loops write the same bytes', async () => {
  const dir = tempDir('model');
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(operationArbitrary, { maxLength: 30 }), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      async (history, dropTombstones) => {
        const runDir = join(dir, String(run++));
        nodeFileSystem.mkdir(runDir);
        const inputs = await writeRun(runDir, history);
        const outputPath = join(runDir, 'out.seg');
        const result = await mergeSegments(nodeFileSystem, { inputs, outputPath, dropTombstones });
        const javascriptPath = join(runDir, 'out-javascript.seg');
        const javascript = await mergeSegments(
          nodeFileSystem,
          { inputs, outputPath: javascriptPath, dropTombstones },
          { loop: 'javascript' },
        );
        assert.deepEqual(withoutDuration(javascript, javascriptPath), withoutDuration(result, outputPath));
        if (!result.empty) assert.ok(readFileSync(outputPath).equals(readFileSync(javascriptPath)), 'the same bytes from both loops');
        const expected = mergeModel(history, dropTombstones);
        assert.equal(result.minSequence, inputs[0]!.minSequence);
        assert.equal(result.maxSequence, inputs[inputs.length - 1]!.maxSequence);
        assert.equal(
          result.inputEntries,
          inputs.reduce((sum, input) => sum + readOperations(input.path).length, 0),
        );
        if (expected.length === 0) {
          assert.equal(result.empty, true);
          assert.equal(nodeFileSystem.exists(outputPath), false, 'an empty merge writes no file');
          return;
        }
        assert.equal(result.empty, false);
        assert.deepEqual(readOperations(outputPath), expected);
        if (result.empty) return;
        assert.equal(result.entries, expected.length);
        assert.equal(result.tombstones, expected.filter((operation) => operation.kind === 'tombstone').length);
        assert.deepEqual(result.minKey, expected[0]!.key);
        assert.deepEqual(result.maxKey, expected[expected.length - 1]!.key);
        assert.equal(result.bytes, nodeFileSystem.stat(outputPath).size);
      },
    ),
    { numRuns: SOAK ? 1000 : 120 },
  );
});

/** A result as the other loop's would be: the same but for its duration and output path. */
function withoutDuration(result: MergeResult, path: string): Omit<MergeResult, 'durationMs' | 'path'> {
  assert.equal(result.path, path);
  const { durationMs, path: _path, ...rest } = result;
  assert.ok(durationMs >= 0);
  return rest;
}

test("the addon's merge loop writes the JavaScript loop's bytes over many blocks, a value larger than its output buffer, and dropped tombstones", async () => {
  assert.ok(nativeEntryMerge() !== undefined || !fileMappingSupport().available, 'the addon merges where it built');
  const dir = tempDir('loops');
  const newer = Array.from({ length: 30_000 }, (_, i) =>
    i % 7 === 0 ? tombstone(`key-${String(i * 2).padStart(6, '0')}`) : put(`key-${String(i * 2).padStart(6, '0')}`, `new-${i}`),
  );
  const older = Array.from({ length: 30_000 }, (_, i) => put(`key-${String(i * 3).padStart(6, '0')}`, 'o'.repeat(i % 50)));
  const large = [put('key-000001', 'L'.repeat(600 * 1024)), put('zzz', new Uint8Array(3))];
  const inputs = await writeRun(dir, [large, older, newer]);
  for (const dropTombstones of [false, true]) {
    const native = await mergeSegments(nodeFileSystem, { inputs, outputPath: join(dir, `native-${dropTombstones}.seg`), dropTombstones });
    const javascript = await mergeSegments(
      nodeFileSystem,
      { inputs, outputPath: join(dir, `javascript-${dropTombstones}.seg`), dropTombstones },
      { loop: 'javascript' },
    );
    assert.deepEqual(
      withoutDuration(native, join(dir, `native-${dropTombstones}.seg`)),
      withoutDuration(javascript, join(dir, `javascript-${dropTombstones}.seg`)),
    );
    assert.ok(readFileSync(join(dir, `native-${dropTombstones}.seg`)).equals(readFileSync(join(dir, `javascript-${dropTombstones}.seg`))));
    assert.deepEqual(readOperations(join(dir, `native-${dropTombstones}.seg`)), mergeModel([large, older, newer], dropTombstones));
    verifySegment(join(dir, `native-${dropTombstones}.seg`));
  }
});

test('text values stay text and byte values stay bytes through a merge', async () => {
  const dir = tempDir('types');
  const inputs = await writeRun(dir, [
    [put('ascii', 'old'), put('bytes', 'was text'), put('empty-text', Uint8Array.of(1))],
    [
      put('ascii', 'plain'),
      put('bytes', Uint8Array.of(0, 255, 128)),
      put('empty-text', ''),
      put('empty-bytes', new Uint8Array(0)),
      put('utf8', 'é\u{1F600}'),
    ],
  ]);
  const outputPath = join(dir, 'out.seg');
  await mergeSegments(nodeFileSystem, { inputs, outputPath, dropTombstones: true });
  assert.deepEqual(readOperations(outputPath), [
    put('ascii', 'plain'),
    put('bytes', Uint8Array.of(0, 255, 128)),
    put('empty-bytes', new Uint8Array(0)),
    put('empty-text', ''),
    put('utf8', 'é\u{1F600}'),
  ]);
});

test('a run whose newest entries are all tombstones merges to nothing when tombstones drop, and to tombstones when they stay', async () => {
  const dir = tempDir('all-tombstones');
  const inputs = await writeRun(dir, [[put('a', '1'), put('b', '2')], [tombstone('a')], [tombstone('b'), tombstone('c')]]);
  const dropped = await mergeSegments(nodeFileSystem, { inputs, outputPath: join(dir, 'dropped.seg'), dropTombstones: true });
  assert.equal(dropped.empty, true);
  assert.equal(dropped.entries, 0);
  assert.equal(dropped.droppedTombstones, 3);
  assert.equal(dropped.inputEntries, 5);
  assert.deepEqual(filesIn(dir), ['1.seg', '2.seg', '3.seg'], 'no output file');

  const kept = await mergeSegments(nodeFileSystem, { inputs, outputPath: join(dir, 'kept.seg'), dropTombstones: false });
  assert.equal(kept.empty, false);
  assert.equal(kept.tombstones, 3);
  assert.deepEqual(readOperations(join(dir, 'kept.seg')), [tombstone('a'), tombstone('b'), tombstone('c')]);
});

test('a bad request is a ValidationError that writes nothing', async () => {
  const dir = tempDir('validation');
  const inputs = await writeRun(dir, [[put('a', '1')], [put('b', '2')]]);
  const outputPath = join(dir, 'out.seg');
  const bad: Array<[string, MergeRequest]> = [
    ['no inputs', { inputs: [], outputPath, dropTombstones: false }],
    ['newest first', { inputs: [...inputs].reverse(), outputPath, dropTombstones: false }],
    [
      'overlapping sequences',
      { inputs: [inputs[0]!, { ...inputs[1]!, minSequence: inputs[0]!.maxSequence }], outputPath, dropTombstones: false },
    ],
    [
      "sequences that are not the file's",
      { inputs: [{ ...inputs[0]!, maxSequence: inputs[0]!.maxSequence - 1 }], outputPath, dropTombstones: false },
    ],
    ['an input as output', { inputs, outputPath: inputs[0]!.path, dropTombstones: false }],
    ['an existing output', { inputs: [inputs[0]!], outputPath: inputs[1]!.path, dropTombstones: false }],
    ['a missing flag', { inputs, outputPath } as unknown as MergeRequest],
  ];
  for (const [what, request] of bad) {
    await assert.rejects(mergeSegments(nodeFileSystem, request), ValidationError, what);
    assert.deepEqual(filesIn(dir), ['1.seg', '2.seg'], what);
  }
});

test('an I/O error while writing, syncing or naming the output leaves no output file', async () => {
  const dir = tempDir('io-errors');
  // Big enough for several writes through the builder's 1 MiB buffer.
  const operations = Array.from({ length: 30_000 }, (_, i) => put(`key-${String(i).padStart(6, '0')}`, 'v'.repeat(60)));
  const inputs = await writeRun(dir, [operations.filter((_, i) => i % 2 === 0), operations.filter((_, i) => i % 2 === 1)]);
  const faults: FaultRule[] = [
    { operation: 'open', nth: 1, code: 'EMFILE', pathIncludes: 'out' },
    { operation: 'write', nth: 1, code: 'ENOSPC', pathIncludes: 'out' },
    { operation: 'write', nth: 2, code: 'ENOSPC', partial: true, pathIncludes: 'out' },
    { operation: 'sync', nth: 1, code: 'EIO', pathIncludes: 'out' },
    { operation: 'syncDirectory', nth: 1, code: 'EIO' },
    // The last read of an input: one of its data blocks, late in the merge.
    { operation: 'read', nth: await countReads(inputs, dir, '2.seg'), code: 'EIO', pathIncludes: '2.seg' },
  ];
  for (const fault of faults) {
    const fs = new FaultInjectingFileSystem(nodeFileSystem, [fault]);
    const outputPath = join(dir, 'out.seg');
    await assert.rejects(mergeSegments(fs, { inputs, outputPath, dropTombstones: false }), IoError, `${fault.operation} ${fault.code}`);
    assert.equal(fs.injected, 1, `the ${fault.operation} fault was reached`);
    assert.deepEqual(filesIn(dir), ['1.seg', '2.seg'], `${fault.operation} ${fault.code}`);
  }
});

/** How many reads a merge of `inputs` makes (of files whose path includes `pathIncludes`); it writes and removes a scratch output. */
async function countReads(inputs: readonly MergeInput[], dir: string, pathIncludes = ''): Promise<number> {
  let reads = 0;
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [], (operation, path) => {
    if (operation === 'read' && path.includes(pathIncludes)) reads++;
  });
  const outputPath = join(dir, 'counting.seg');
  await mergeSegments(fs, { inputs, outputPath, dropTombstones: false });
  rmSync(outputPath);
  return reads;
}

test('an aborted signal stops an in-process merge mid-stream and leaves no output file', async () => {
  const dir = tempDir('abort');
  const operations = Array.from({ length: 20_000 }, (_, i) => put(`key-${String(i).padStart(6, '0')}`, 'v'.repeat(40)));
  const inputs = await writeRun(dir, [operations.slice(0, 15_000), operations.slice(5_000)]);
  const allReads = await countReads(inputs, dir);
  assert.ok(allReads >= 6, `the merge reads in several steps (${allReads} reads)`);
  for (const abortAtRead of [1, Math.floor(allReads / 2), allReads - 1]) {
    const controller = new AbortController();
    let reads = 0;
    const fs = new FaultInjectingFileSystem(nodeFileSystem, [], (operation) => {
      if (operation === 'read' && ++reads === abortAtRead) controller.abort(new Error('the test gave up'));
    });
    await assert.rejects(
      mergeSegments(fs, { inputs, outputPath: join(dir, 'out.seg'), dropTombstones: false }, { signal: controller.signal }),
      MergeAbortedError,
    );
    assert.deepEqual(filesIn(dir), ['1.seg', '2.seg']);
  }
  const controller = new AbortController();
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [], (operation) => {
    if (operation === 'syncDirectory') controller.abort();
  });
  await assert.rejects(
    mergeSegments(fs, { inputs, outputPath: join(dir, 'out.seg'), dropTombstones: false }, { signal: controller.signal }),
    MergeAbortedError,
    'aborted while naming the finished file: the caller gave up on it, so it goes',
  );
  assert.deepEqual(filesIn(dir), ['1.seg', '2.seg']);
});

test('a merge asked to pause stops there with its output half built, goes on when released, and writes the same segment', async () => {
  const dir = tempDir('pause');
  const history = [0, 1].map((segment) =>
    Array.from({ length: 50 }, (_, i) => put(`k${String(i * 2 + segment).padStart(3, '0')}`, `${segment}`)),
  );
  const inputs = await writeRun(dir, history);
  const unpaused = join(dir, 'unpaused.seg');
  await mergeSegments(nodeFileSystem, { inputs, outputPath: unpaused, dropTombstones: false });
  for (const afterEntries of [0, 1, 99]) {
    const outputPath = join(dir, `paused-${afterEntries}.seg`);
    const gate = new MergePauseGate(afterEntries);
    const merging = mergeSegments(nodeFileSystem, { inputs, outputPath, dropTombstones: false, pause: gate.pause });
    assert.ok(await gate.reachedBefore(merging), `it stopped after ${afterEntries}`);
    assert.ok(nodeFileSystem.exists(buildPathOf(outputPath)) && !nodeFileSystem.exists(outputPath), 'the output is being built');
    gate.release();
    assert.equal((await merging).entries, 100);
    assert.deepEqual(readOperations(outputPath), readOperations(unpaused));
  }
  const never = new MergePauseGate(100);
  await mergeSegments(nodeFileSystem, { inputs, outputPath: join(dir, 'past-the-end.seg'), dropTombstones: false, pause: never.pause });
  assert.equal(never.isReached, false, 'a point past the last entry is never reached');
  for (const pause of [
    { afterEntries: -1, state: new Int32Array(new SharedArrayBuffer(4)) },
    { afterEntries: 1, state: new Int32Array(1) },
    { afterEntries: 0.5, state: new Int32Array(new SharedArrayBuffer(4)) },
  ]) {
    await assert.rejects(
      mergeSegments(nodeFileSystem, { inputs, outputPath: join(dir, 'refused.seg'), dropTombstones: false, pause }),
      ValidationError,
    );
  }
});
