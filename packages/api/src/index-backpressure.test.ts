import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NodeFileSystem, type FileHandle, type OpenMode } from '@silt/fs';
import { Index } from './index-handle.js';
import type { BackpressureEvent } from './index-events.js';
import { tempDir } from '@silt/test-support';
import { writerStats } from './test-support/writer-stats.js';

const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

/** A file handle whose fsync waits until the test opens the gate. */
class GatedHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly gate: Promise<void>,
    private readonly reached: () => void,
  ) {}

  get path(): string {
    return this.inner.path;
  }
  size(): number {
    return this.inner.size();
  }
  read(target: Uint8Array, position: number): number {
    return this.inner.read(target, position);
  }
  write(data: Uint8Array, position: number): void {
    this.inner.write(data, position);
  }
  truncate(length: number): void {
    this.inner.truncate(length);
  }
  async sync(): Promise<void> {
    this.reached();
    await this.gate;
    return this.inner.sync();
  }
  datasync(): Promise<void> {
    return this.inner.datasync();
  }
  datasyncNow(): void {
    this.inner.datasyncNow();
  }
  close(): void {
    this.inner.close();
  }
}

/**
 * The real file system, except that the first merge's output segment cannot
 * be fsynced until `release()`: that merge stays running, with no timing
 * involved. A merge is the only thing that creates a segment file while
 * segment files are open for reading (its inputs; in `memory` mode the
 * index reads its own segments whole and closes them at once), and with a
 * file system of its own the index merges on this thread, so the inputs are
 * still open when the output is created.
 */
class FirstMergeHeldFileSystem extends NodeFileSystem {
  private segmentsOpenForReading = 0;
  private held = false;
  private releaseGate!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.releaseGate = resolve));
  private mergeReachedSync!: () => void;
  /** Resolves once the held merge has written its output and waits to fsync it. */
  readonly mergeHeld = new Promise<void>((resolve) => (this.mergeReachedSync = resolve));

  override open(path: string, mode: OpenMode): FileHandle {
    const handle = super.open(path, mode);
    // A segment is built under `<id>.seg.tmp` and read under its own name.
    if (!/\.seg(\.tmp)?$/.test(path)) return handle;
    if (mode === 'read') return this.countedWhileOpen(handle);
    if (mode !== 'createNew' || this.segmentsOpenForReading === 0 || this.held) return handle;
    this.held = true;
    return new GatedHandle(handle, this.gate, () => this.mergeReachedSync());
  }

  release(): void {
    this.releaseGate();
  }

  private countedWhileOpen(handle: FileHandle): FileHandle {
    this.segmentsOpenForReading++;
    let open = true;
    const close = handle.close.bind(handle);
    handle.close = () => {
      if (open) this.segmentsOpenForReading--;
      open = false;
      close();
    };
    return handle;
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function watch(promise: Promise<void>): { readonly settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled };
}

test('past segmentCap a write is held until the running merge commits; under the cap nothing is held', async () => {
  const fs = new FirstMergeHeldFileSystem();
  const segmentCap = 4;
  await using index = await Index.open(join(tempDir('backpressure-hold'), 'idx'), {
    ...NO_TIMER,
    fs,
    mergeThreads: 1,
    mergePolicy: { minRunLength: 2, segmentCap },
  });
  // On a failed assertion the index closes, which waits for the held merge: let it go.
  try {
    const order: string[] = [];
    const backpressure: BackpressureEvent[] = [];
    index.on('backpressure', (event) => backpressure.push(event));
    index.on('merge', () => order.push('merge'));

    let flushes = 0;
    const flushOneSegment = async (): Promise<void> => {
      await index.set(`flush${flushes}`, `segment ${flushes}`);
      flushes++;
      await index.flush();
    };

    // Two similar segments: the policy starts a merge, which cannot finish.
    await flushOneSegment();
    await flushOneSegment();
    await fs.mergeHeld;
    assert.equal(writerStats(index).merges.running, 1);

    // A merge runs, but the segments are within the cap: writes are acknowledged as usual.
    while (index.stats().segments.length < segmentCap) await flushOneSegment();
    const underCap = index.set('under', 'the cap');
    const underWatch = watch(underCap);
    await index.flush();
    assert.equal(writerStats(index).merges.running, 1, 'the merge still runs');
    assert.ok(underWatch.settled(), 'a write within the cap is not held');
    await underCap;
    assert.equal(writerStats(index).backpressuredWrites, 0);
    assert.deepEqual(backpressure, []);

    // That flush took the index past the cap.
    const segmentsOverCap = index.stats().segments.length;
    assert.equal(segmentsOverCap, segmentCap + 1);
    const held = index.set('over', 'the cap');
    held.then(
      () => order.push('held write acknowledged'),
      () => order.push('held write rejected'),
    );
    const heldWatch = watch(held);
    assert.deepEqual(backpressure, [{ segments: segmentsOverCap, segmentCap }]);
    assert.equal(writerStats(index).backpressuredWrites, 1);
    // The same wait that saw the write within the cap acknowledged: this one is still held.
    await index.flush();
    assert.equal(writerStats(index).merges.running, 1, 'the merge still runs');
    assert.equal(heldWatch.settled(), false, 'the write past the cap is held while the merge runs');
    assert.equal(index.get('over'), 'the cap', 'a held write is readable all the same');
    assert.deepEqual(order, []);

    fs.release();
    await held;
    assert.deepEqual(order, ['merge', 'held write acknowledged'], 'the acknowledgement came after the merge committed');

    // Once merges bring the count back within the cap, writes go through without waiting.
    await index.mergesIdle();
    assert.ok(index.stats().segments.length <= segmentCap, `${index.stats().segments.length} segments after merges`);
    const heldSoFar = writerStats(index).backpressuredWrites;
    await index.set('after', 'merges');
    assert.equal(writerStats(index).backpressuredWrites, heldSoFar);
    assert.equal(index.get('over'), 'the cap');
  } finally {
    fs.release();
  }
});
