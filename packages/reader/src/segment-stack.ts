import { join } from 'node:path';
import { CorruptionError, type FileSystem } from '@silt/fs';
import {
  SegmentReader,
  type AccessMode,
  type Generation,
  type SegmentReaderOptions,
  type SegmentRecord,
  type SegmentStats,
} from '@silt/segments';
import { compareKeys, describeKey, StackKeyFilter } from '@silt/segments/internal';
import type { EntrySource } from './entry-source.js';

export interface SegmentStackOptions {
  readonly fs: FileSystem;
  readonly accessMode: AccessMode;
  readonly cacheBytes: number;
}

/**
 * The open segment files of one manifest generation, newest first: the
 * source stack a snapshot reads. Moving to a newer generation reuses the
 * readers of segments that did not change and opens only the new ones.
 *
 * Every segment it opens must be the one its manifest row describes: same
 * size, counts, sequence range and key range, all read from the file's
 * header, footer and key range (no scan). Otherwise it is a
 * `CorruptionError`, not a reader that would serve another segment's data.
 */
export class SegmentStack {
  private filter: StackKeyFilter | undefined | null = null;

  private constructor(
    readonly generation: number,
    private readonly readers: ReadonlyMap<number, SegmentReader<Uint8Array>>,
    /** Segment ids, newest first. */
    private readonly order: readonly number[],
    private readonly directory: string,
    private readonly options: SegmentStackOptions,
  ) {}

  static open(directory: string, generation: Generation, options: SegmentStackOptions): SegmentStack {
    return new SegmentStack(0, new Map(), [], directory, options).advance(generation).stack;
  }

  /** Newest first, ready for a MergedView. */
  get sources(): EntrySource[] {
    return this.order.map((id) => this.readers.get(id)!);
  }

  /**
   * Every segment's key filter, copied side by side for a MergedView's gets
   * (undefined when fewer than two segments have one). Made once per stack,
   * at the first get through a view over it (`MergedView`), not at every
   * view: views are rebuilt at every memtable change, stacks only when the
   * generation does.
   */
  get keyFilter(): StackKeyFilter | undefined {
    if (this.filter === null) this.filter = StackKeyFilter.of(this.order.map((id) => this.readers.get(id)!.keyFilter));
    return this.filter;
  }

  get segmentCount(): number {
    return this.order.length;
  }

  /** How the open segments are read: the requested mode, except that `mmap` opens as `file` where this process cannot map files. */
  get access(): AccessMode {
    const first = this.readers.values().next();
    return first.done === true ? this.options.accessMode : first.value.access;
  }

  /**
   * The stack for `generation`, sharing this one's readers where it can, and
   * the readers only this stack used, for the caller to close once nothing
   * reads them. If opening a new segment fails, the ones opened so far are
   * closed and this stack is unchanged.
   */
  advance(generation: Generation): { stack: SegmentStack; retired: SegmentReader<Uint8Array>[] } {
    const opened = new Map<number, SegmentReader<Uint8Array>>();
    try {
      for (const segment of this.newSegments(generation)) opened.set(segment.id, this.openSegment(segment));
    } catch (error) {
      for (const reader of opened.values()) reader.close();
      throw error;
    }
    return this.assemble(generation, opened);
  }

  /**
   * `advance`, with new `memory`-mode segments read a slice per event-loop
   * turn (`SegmentReader.load`): for a writer or reader that serves calls
   * while a large merged segment comes in.
   */
  async advanceInTurns(generation: Generation): Promise<{ stack: SegmentStack; retired: SegmentReader<Uint8Array>[] }> {
    const opened = new Map<number, SegmentReader<Uint8Array>>();
    try {
      for (const segment of this.newSegments(generation)) opened.set(segment.id, await this.loadSegment(segment));
    } catch (error) {
      for (const reader of opened.values()) reader.close();
      throw error;
    }
    return this.assemble(generation, opened);
  }

  private newSegments(generation: Generation): Generation['segments'] {
    return generation.segments.filter((segment) => !this.readers.has(segment.id));
  }

  private assemble(
    generation: Generation,
    opened: ReadonlyMap<number, SegmentReader<Uint8Array>>,
  ): { stack: SegmentStack; retired: SegmentReader<Uint8Array>[] } {
    const readers = new Map<number, SegmentReader<Uint8Array>>();
    for (const segment of generation.segments) readers.set(segment.id, this.readers.get(segment.id) ?? opened.get(segment.id)!);
    const order = generation.segments.map((segment) => segment.id).reverse();
    const retired = [...this.readers].filter(([id]) => !readers.has(id)).map(([, reader]) => reader);
    return { stack: new SegmentStack(generation.generation, readers, order, this.directory, this.options), retired };
  }

  close(): void {
    for (const reader of this.readers.values()) reader.close();
  }

  private openSegment(segment: SegmentRecord): SegmentReader<Uint8Array> {
    return checkedAgainstRow(segment, SegmentReader.open(this.pathOf(segment.file), this.readerOptions()));
  }

  private async loadSegment(segment: SegmentRecord): Promise<SegmentReader<Uint8Array>> {
    return checkedAgainstRow(segment, await SegmentReader.load(this.pathOf(segment.file), this.readerOptions()));
  }

  private pathOf(file: string): string {
    return join(this.directory, file);
  }

  private readerOptions(): SegmentReaderOptions & { keyEncoding: 'binary' } {
    return { fs: this.options.fs, access: this.options.accessMode, cacheBytes: this.options.cacheBytes, keyEncoding: 'binary' };
  }
}

const COUNTED_FIELDS = ['bytes', 'entries', 'tombstones', 'minSequence', 'maxSequence'] as const;
const KEY_FIELDS = ['minKey', 'maxKey'] as const;

/**
 * `reader`, if its file is the segment `row` describes; else closes it and
 * throws a `CorruptionError` naming every field that differs. Segment files
 * are named by id only, so a file copied or restored over another, or a
 * manifest that lost commits and names an id again, would otherwise be read
 * as if it were the right one. Reads only what opening the file already
 * parsed (its size, header, footer and key range).
 */
function checkedAgainstRow(row: SegmentRecord, reader: SegmentReader<Uint8Array>): SegmentReader<Uint8Array> {
  const mismatches = rowMismatches(row, reader.stats());
  if (mismatches.length === 0) return reader;
  reader.close();
  throw new CorruptionError(
    reader.file,
    undefined,
    `${row.file} does not match its manifest row: ${mismatches.join('; ')} (was another segment's file copied over it?)`,
  );
}

function rowMismatches(row: SegmentRecord, stats: SegmentStats<Uint8Array>): string[] {
  const mismatches: string[] = [];
  for (const field of COUNTED_FIELDS) {
    if (row[field] !== stats[field]) mismatches.push(`${field} ${row[field]} in the manifest, ${stats[field]} in the file`);
  }
  for (const field of KEY_FIELDS) {
    const inFile = stats[field];
    if (inFile === undefined || compareKeys(row[field], inFile) !== 0) {
      mismatches.push(
        `${field} ${describeKey(row[field])} in the manifest, ${inFile === undefined ? 'none' : describeKey(inFile)} in the file`,
      );
    }
  }
  return mismatches;
}
