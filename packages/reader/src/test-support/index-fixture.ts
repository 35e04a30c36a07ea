import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { tempDir } from '@silt/test-support';
import { MANIFEST_FILE, SEGMENTS_DIRECTORY, segmentFileName } from '@silt/fs';
import { buildSegment, Manifest, type SegmentInput } from '@silt/segments';

/** A key and its value, or null for a tombstone. */
export type FixtureEntry = readonly [key: string, value: string | null];

interface FixtureSegment {
  readonly minSequence: number;
  readonly maxSequence: number;
  /** Sorted by key, one entry a key. */
  readonly entries: readonly FixtureEntry[];
}

const utf8 = new TextEncoder();

/**
 * The writer side of an index, without `Index`: segments built with
 * `buildSegment` and committed through the manifest's writer role, as the
 * flusher, the merger and the collector do, with a model of what each
 * segment holds so a test can say what a reader must see.
 */
export class FixtureWriter {
  readonly manifest: Manifest;
  private readonly live = new Map<number, FixtureSegment>();
  private nextSequence = 1;

  private constructor(readonly directory: string) {
    mkdirSync(join(directory, SEGMENTS_DIRECTORY), { recursive: true });
    this.manifest = Manifest.open(join(directory, MANIFEST_FILE), { role: 'writer' });
    after(() => this.manifest.close());
  }

  /** An empty index (generation 0) in a fresh temp directory. */
  static create(label: string): FixtureWriter {
    return new FixtureWriter(join(tempDir(label), 'idx'));
  }

  /** An empty index (generation 0) in `directory`, created if missing. */
  static createAt(directory: string): FixtureWriter {
    return new FixtureWriter(directory);
  }

  /**
   * A flush: one new segment holding `entries` (later ones win), committed
   * as the next generation. It covers one sequence number a distinct key,
   * or up to `through` (a log's flush: the writes since the last one).
   */
  async flush(entries: readonly FixtureEntry[], through?: number): Promise<number> {
    const sorted = [...new Map(entries).entries()].sort(([a], [b]) => compareUtf8(a, b));
    const minSequence = this.nextSequence;
    const maxSequence = through ?? minSequence + Math.max(1, sorted.length) - 1;
    this.nextSequence = maxSequence + 1;
    return (await this.buildSegment({ minSequence, maxSequence, entries: sorted }))();
  }

  /** A merge of the contiguous live segments `ids` into one, committed as the next generation. */
  async merge(ids: readonly number[]): Promise<number> {
    return (await this.prepareMerge(ids))();
  }

  /**
   * Builds the merged segment of `ids` now and returns the commit, which is
   * synchronous: a test can run it from inside a reader's refresh.
   */
  async prepareMerge(ids: readonly number[]): Promise<() => number> {
    const inputs = ids.map((id) => this.live.get(id)!).sort((a, b) => a.minSequence - b.minSequence);
    const merged = new Map<string, string | null>();
    for (const input of inputs) for (const [key, value] of input.entries) merged.set(key, value);
    const entries = [...merged.entries()].sort(([a], [b]) => compareUtf8(a, b));
    return this.buildSegment({ minSequence: inputs[0]!.minSequence, maxSequence: inputs.at(-1)!.maxSequence, entries }, ids);
  }

  /** The collector: deletes the files no generation in use needs and forgets them; returns their ids. */
  collect(): number[] {
    const garbage = this.manifest.collectable();
    for (const segment of garbage) unlinkSync(join(this.directory, segment.file));
    this.manifest.markCollected(garbage.map((segment) => segment.id));
    return garbage.map((segment) => segment.id);
  }

  /** Live segment ids, oldest first. */
  liveIds(): number[] {
    return [...this.live.entries()].sort(([, a], [, b]) => a.minSequence - b.minSequence).map(([id]) => id);
  }

  /** What a reader of the current generation must see: newest wins, tombstones removed. */
  model(): Map<string, string> {
    const state = new Map<string, string>();
    for (const id of this.liveIds()) {
      for (const [key, value] of this.live.get(id)!.entries) {
        if (value === null) state.delete(key);
        else state.set(key, value);
      }
    }
    return new Map([...state.entries()].sort(([a], [b]) => compareUtf8(a, b)));
  }

  segmentPath(id: number): string {
    return join(this.directory, segmentFileName(id));
  }

  close(): void {
    this.manifest.close();
  }

  /** Builds the segment file (fsynced) and returns its commit. */
  private async buildSegment(segment: FixtureSegment, replaces: readonly number[] = []): Promise<() => number> {
    const id = this.manifest.allocateSegmentId();
    const inputs = segment.entries.map(([key, value]): SegmentInput =>
      value === null ? { kind: 'tombstone', key } : { kind: 'put', key, value },
    );
    const built = await buildSegment(this.segmentPath(id), inputs, { minSequence: segment.minSequence, maxSequence: segment.maxSequence });
    return () => {
      this.manifest.commit({
        add: [
          {
            id,
            minSequence: segment.minSequence,
            maxSequence: segment.maxSequence,
            minKey: utf8.encode(segment.entries[0]?.[0] ?? ''),
            maxKey: utf8.encode(segment.entries.at(-1)?.[0] ?? ''),
            bytes: built.bytes,
            entries: built.entries,
            tombstones: built.tombstones,
          },
        ],
        ...(replaces.length > 0 ? { remove: replaces } : { walCoveredSequence: segment.maxSequence }),
      });
      for (const old of replaces) this.live.delete(old);
      this.live.set(id, segment);
      return id;
    };
  }
}

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
