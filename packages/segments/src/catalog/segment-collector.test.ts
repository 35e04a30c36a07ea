import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultInjectingFileSystem, IoError, nodeFileSystem } from '@silt/fs';
import { Manifest } from './manifest.js';
import { segmentFileName } from '@silt/fs';
import type { NewSegment } from './manifest-schema.js';
import { collectSegments } from './segment-collector.js';
import { ChildProgram, tempDir } from './test-support/manifest-fixtures.js';

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

/**
 * Writes segment `id`'s file and returns its manifest row. The collector
 * never opens a segment, only deletes it, so any bytes stand in for one; the
 * row's `bytes` is the file's size, as a flush or merge records it.
 */
function writeSegment(dir: string, id: number, sequences: [number, number], size: number): NewSegment {
  writeFileSync(join(dir, segmentFileName(id)), new Uint8Array(size).fill(id));
  const [minSequence, maxSequence] = sequences;
  return { id, minSequence, maxSequence, minKey: Uint8Array.of(0x61), maxKey: Uint8Array.of(0x63), bytes: size, entries: 1, tombstones: 0 };
}

/** An index directory with three flushed segments and the file of their merge written, not yet committed. */
function indexWithMerge(label: string): MergedIndex {
  const dir = tempDir(label);
  const segmentsDir = join(dir, 'segments');
  mkdirSync(segmentsDir);
  const manifest = Manifest.open(join(dir, 'manifest.sqlite'));
  const inputIds = [manifest.allocateSegmentId(), manifest.allocateSegmentId(), manifest.allocateSegmentId()];
  const inputs = inputIds.map((id, i) => writeSegment(dir, id, [i + 1, i + 1], 100 + i));
  for (const input of inputs) manifest.commit({ add: [input], walCoveredSequence: input.maxSequence });
  const mergedId = manifest.allocateSegmentId();
  const merged = writeSegment(dir, mergedId, [1, inputs.length], 250);
  const inputBytes = inputs.reduce((sum, input) => sum + input.bytes, 0);
  const commitMerge = (): void => {
    manifest.commit({ remove: inputIds, add: [merged] });
  };
  return { dir, segmentsDir, manifest, inputIds, inputBytes, mergedId, commitMerge };
}

const filesIn = (dir: string): string[] => readdirSync(dir).sort();
const fileNames = (ids: readonly number[]): string[] => ids.map((id) => `${id}.seg`).sort();

test('after a merge commits, the collector deletes the files of its inputs and the manifest forgets them', async () => {
  const index = indexWithMerge('collect');
  try {
    assert.deepEqual(
      await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir),
      { removed: [], bytes: 0 },
      'nothing is removed before the merge commits',
    );
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
  const index = indexWithMerge('collect-lease');
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
  const index = indexWithMerge('collect-dead-lease');
  const reader = ChildProgram.start('manifest-lease-holder', [join(index.dir, 'manifest.sqlite')]);
  try {
    const lease = JSON.parse(await reader.nextLine()) as { pid: number; generation: number };
    assert.equal(lease.pid, reader.pid);
    index.commitMerge();
    assert.deepEqual(
      (await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed,
      [],
      'the live reader holds the inputs',
    );
    // kill() resolves after the child is reaped: its pid is gone, not a zombie.
    await reader.kill();
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, index.inputIds);
    assert.deepEqual(index.manifest.liveLeases(), []);
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
  } finally {
    await reader.kill();
    index.manifest.close();
  }
});

test('a file already gone (a crash between unlink and markCollected) counts as collected', async () => {
  const index = indexWithMerge('collect-enoent');
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
  const index = indexWithMerge('collect-eio');
  try {
    index.commitMerge();
    const failing = new FaultInjectingFileSystem(nodeFileSystem, [
      { operation: 'unlink', nth: 1, code: 'EIO', pathIncludes: `${index.inputIds[0]}.seg` },
    ]);
    await assert.rejects(
      collectSegments(failing, index.manifest, index.segmentsDir),
      (error: unknown) => error instanceof IoError && error.errno === 'EIO',
    );
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.inputIds[0]!, index.mergedId]));
    assert.deepEqual(index.manifest.segmentIds(), [index.inputIds[0]!, index.mergedId]);
    assert.deepEqual((await collectSegments(nodeFileSystem, index.manifest, index.segmentsDir)).removed, [index.inputIds[0]]);
    assert.deepEqual(filesIn(index.segmentsDir), fileNames([index.mergedId]));
  } finally {
    index.manifest.close();
  }
});
