import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FaultInjectingFileSystem, IoError, nodeFileSystem } from '@silt/fs';
import { Manifest, segmentFileName, type NewSegment } from '@silt/segments';
import { collectSegments } from './segment-collector.js';
import { mergeSegments, type MergeInput } from './segment-merge.js';
import { filesIn, put, tempDir, writeRun } from './test-support/merge-fixtures.js';

interface MergedIndex {
  readonly dir: string;
  readonly segmentsDir: string;
  readonly manifest: Manifest;
  readonly inputIds: number[];
  readonly inputBytes: number;
  readonly mergedId: number;
  /** Commits the merge of the three flushed segments into one. */
  commitMerge(): void;
}

/** An index directory with three flushed segments and their merge written, not yet committed. */
async function indexWithMerge(label: string): Promise<MergedIndex> {
  const dir = tempDir(label);
  const segmentsDir = join(dir, 'segments');
  mkdirSync(segmentsDir);
  const manifest = Manifest.open(join(dir, 'manifest.sqlite'));
  const inputIds = [manifest.allocateSegmentId(), manifest.allocateSegmentId(), manifest.allocateSegmentId()];
  assert.deepEqual(inputIds, [inputIds[0]!, inputIds[0]! + 1, inputIds[0]! + 2]);
  const inputs = await writeRun(segmentsDir, [[put('a', '1'), put('b', '1')], [put('a', '2')], [put('c', '3')]], inputIds[0]);
  inputs.forEach((input, i) => assert.equal(input.path, join(dir, segmentFileName(inputIds[i]!))));
  for (const [i, input] of inputs.entries()) manifest.commit({ add: [newSegment(inputIds[i]!, input)], walCoveredSequence: input.maxSequence });
  const mergedId = manifest.allocateSegmentId();
  const outputPath = join(dir, segmentFileName(mergedId));
  const merged = await mergeSegments(nodeFileSystem, { inputs, outputPath, dropTombstones: true });
  assert.equal(merged.empty, false);
  const inputBytes = inputs.reduce((sum, input) => sum + nodeFileSystem.stat(input.path).size, 0);
  const commitMerge = (): void => {
    if (merged.empty) return;
    manifest.commit({ remove: inputIds, add: [{ ...newSegment(mergedId, { path: outputPath, minSequence: merged.minSequence, maxSequence: merged.maxSequence }), entries: merged.entries, bytes: merged.bytes, minKey: merged.minKey, maxKey: merged.maxKey }] });
  };
  return { dir, segmentsDir, manifest, inputIds, inputBytes, mergedId, commitMerge };
}

function newSegment(id: number, input: MergeInput): NewSegment {
  const bytes = nodeFileSystem.stat(input.path).size;
  return { id, minSequence: input.minSequence, maxSequence: input.maxSequence, minKey: Uint8Array.of(0x61), maxKey: Uint8Array.of(0x63), bytes, entries: 1, tombstones: 0 };
}

const fileNames = (ids: readonly number[]): string[] => ids.map((id) => `${id}.seg`).sort();

test('after a merge commits, the collector deletes the files of its inputs and the manifest forgets them', async () => {
  const index = await indexWithMerge('collect');
  try {
    assert.deepEqual(await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir), { removed: [], bytes: 0 }, 'nothing is removed before the merge commits');
    index.commitMerge();
    const collected = await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir);
    assert.deepEqual(collected, { removed: index.inputIds, bytes: index.inputBytes });
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
    assert.deepEqual(index.manifest.segmentIds(), [index.mergedId]);
    assert.deepEqual(await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir), { removed: [], bytes: 0 });
  } finally {
    index.manifest.close();
  }
});

test('a live lease on a generation that needs the inputs keeps their files until it is dropped', async () => {
  const index = await indexWithMerge('collect-lease');
  try {
    const lease = index.manifest.takeLease();
    index.commitMerge();
    assert.deepEqual(await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir), { removed: [], bytes: 0 });
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([...index.inputIds, index.mergedId]));
    index.manifest.dropLease(lease.id);
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, index.inputIds);
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
  } finally {
    index.manifest.close();
  }
});

test('the lease of a reader process that was SIGKILLed is reclaimed, and the files it held are collected', async () => {
  const index = await indexWithMerge('collect-dead-lease');
  const child = spawn(process.execPath, [fileURLToPath(new URL('./test-support/lease-holder.js', import.meta.url)), join(index.dir, 'manifest.sqlite')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const lease = JSON.parse(line) as { pid: number; generation: number };
    assert.equal(lease.pid, child.pid);
    index.commitMerge();
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, [], 'the live reader holds the inputs');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    // The 'exit' event comes after the child is reaped: its pid is gone, not a zombie.
    await exited;
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, index.inputIds);
    assert.deepEqual(index.manifest.liveLeases(), []);
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
  } finally {
    child.kill('SIGKILL');
    index.manifest.close();
  }
});

test('a file already gone (a crash between unlink and markCollected) counts as collected', async () => {
  const index = await indexWithMerge('collect-enoent');
  try {
    index.commitMerge();
    const gone = join(index.dir, segmentFileName(index.inputIds[1]!));
    const goneBytes = nodeFileSystem.stat(gone).size;
    rmSync(gone);
    const collected = await collectSegments(nodeFileSystem, index.manifest, (id) => join(index.dir, segmentFileName(id)));
    assert.deepEqual(collected, { removed: index.inputIds, bytes: index.inputBytes - goneBytes });
    assert.deepEqual(index.manifest.segmentIds(), [index.mergedId]);
  } finally {
    index.manifest.close();
  }
});

test('a file that cannot be deleted stays listed for the next collection; the others are collected', async () => {
  const index = await indexWithMerge('collect-eio');
  try {
    index.commitMerge();
    const failing = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'unlink', nth: 1, code: 'EIO', pathIncludes: `${index.inputIds[0]}.seg` }]);
    await assert.rejects(collectSegments(failing, index.manifest, index.segmentsDir), (error: unknown) => error instanceof IoError && error.errno === 'EIO');
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.inputIds[0]!, index.mergedId]));
    assert.deepEqual(index.manifest.segmentIds(), [index.inputIds[0]!, index.mergedId]);
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, [index.inputIds[0]]);
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
  } finally {
    index.manifest.close();
  }
});
