import { CorruptionError } from '@silt/fs';
import type { NativeEntryMerge } from '@silt/fs/internal';
import type { EncodedRuns } from '@silt/segments';

/** Output bytes one call of the merge loop may fill: 64 blocks of 4 KiB, so calls are few and the bytes stay in cache. */
const OUTPUT_BYTES = 256 * 1024;
const BLOCK_SLOTS = 256;
const ENTRY_SLOTS = 8192;
const NO_BYTES = new Uint8Array(0);

/** A data block the merge loop closed: its bytes, and each entry's key hash and offset in it (`SegmentBuilder.addEncodedBlock`). */
export interface MergedBlock {
  readonly bytes: Uint8Array;
  readonly hashes: Uint32Array;
  readonly offsets: Uint32Array;
}

/** One input of the merge: its runs of verified blocks, and its file, for errors. */
export interface NativeMergeInput {
  readonly runs: EncodedRuns;
  readonly path: string;
}

/**
 * The inputs merged into data blocks by the addon's merge loop (merge.c of
 * @silt/mmap): one entry per key, the newest input's, tombstones dropped if
 * asked. The same entries, blocks and hashes as `MergedRun` fed to
 * `SegmentBuilder.addEncoded` one by one, with the choosing, copying and
 * hashing done natively, many blocks a call. Inputs come newest first.
 */
export class NativeMergedRun {
  private readonly runs: Uint8Array[];
  private readonly state: Int32Array;
  private output = new Uint8Array(OUTPUT_BYTES);
  private hashes = new Uint32Array(ENTRY_SLOTS);
  private offsets = new Uint32Array(ENTRY_SLOTS);
  private readonly blockEnds = new Uint32Array(BLOCK_SLOTS);
  /** Closed blocks of the last call handed out so far; the first entry of the next block. */
  private blocksTaken = 0;
  private entriesTaken = 0;
  private inputsDone = false;

  constructor(
    private readonly native: NativeEntryMerge,
    private readonly inputs: readonly NativeMergeInput[],
    private readonly blockSize: number,
    private readonly dropTombstones: boolean,
    /** Called between calls of the loop (each fills at most OUTPUT_BYTES): throws to stop the merge. */
    private readonly checkAborted: () => void,
  ) {
    // Every run starts empty at 0: the loop asks for each input's first run.
    this.runs = inputs.map(() => NO_BYTES);
    this.state = new Int32Array(native.state.cursors + inputs.length);
    this.state[native.state.lastEntry] = -1;
  }

  /** Tombstones left out so far. */
  get droppedTombstones(): number {
    return this.state[this.native.state.dropped]!;
  }

  /** The next block (only the last may be shorter than the block size), or undefined after it; its views hold until the next call. */
  next(): MergedBlock | undefined {
    const layout = this.native.state;
    if (this.blocksTaken === this.state[layout.blocks]!) {
      if (this.inputsDone) return this.takeOpenBlock();
      this.keepOnlyOpenBlock();
      this.fill();
      if (this.state[layout.blocks] === 0) return this.takeOpenBlock();
    }
    const start = this.blocksTaken === 0 ? 0 : this.blockEnds[this.blocksTaken - 1]!;
    const end = this.blockEnds[this.blocksTaken]!;
    this.blocksTaken++;
    return this.blockOf(start, end);
  }

  /** Calls the loop until its output is full (some blocks closed) or every input is done. */
  private fill(): void {
    const { state: layout, status: STATUS } = this.native;
    for (;;) {
      this.checkAborted();
      const status = this.native.mergeEntries(
        this.runs,
        this.state,
        this.output,
        this.hashes,
        this.offsets,
        this.blockEnds,
        this.blockSize,
        this.dropTombstones,
      );
      const detail = this.state[layout.detail]!;
      if (status === STATUS.input) this.nextRunOf(detail);
      else if (status === STATUS.room && this.state[layout.blocks]! > 0) return;
      else if (status === STATUS.room) this.grow(detail);
      else if (status === STATUS.done) {
        this.inputsDone = true;
        return;
      } else throw this.corruption(status, detail);
    }
  }

  private nextRunOf(input: number): void {
    const run = this.inputs[input]!.runs.next();
    this.runs[input] = run ?? NO_BYTES;
    this.state[this.native.state.cursors + input] = run === undefined ? -1 : 0;
  }

  /** Room for an open block of `needed` bytes with its next entry, or for more entries in one block than there are slots. */
  private grow(needed: number): void {
    if (needed > this.output.length) {
      const output = new Uint8Array(Math.max(2 * this.output.length, 2 * needed));
      output.set(this.output.subarray(0, this.state[this.native.state.outputLength]));
      this.output = output;
      return;
    }
    const hashes = new Uint32Array(2 * this.hashes.length);
    const offsets = new Uint32Array(2 * this.offsets.length);
    hashes.set(this.hashes);
    offsets.set(this.offsets);
    this.hashes = hashes;
    this.offsets = offsets;
  }

  /** Once every closed block was taken: the open block's bytes and entries move to the front, for the next call. */
  private keepOnlyOpenBlock(): void {
    const layout = this.native.state;
    const state = this.state;
    const blockStart = state[layout.blockStart]!;
    const outputLength = state[layout.outputLength]!;
    const entries = state[layout.entries]!;
    this.output.copyWithin(0, blockStart, outputLength);
    this.hashes.copyWithin(0, this.entriesTaken, entries);
    this.offsets.copyWithin(0, this.entriesTaken, entries);
    // The last entry appended is in a block already handed out: the builder checks the next block against it.
    state[layout.lastEntry] = outputLength > blockStart ? state[layout.lastEntry]! - blockStart : -1;
    state[layout.outputLength] = outputLength - blockStart;
    state[layout.blockStart] = 0;
    state[layout.entries] = entries - this.entriesTaken;
    state[layout.blocks] = 0;
    this.blocksTaken = 0;
    this.entriesTaken = 0;
  }

  /** After the inputs are done: the open block, once, if it holds entries. */
  private takeOpenBlock(): MergedBlock | undefined {
    const layout = this.native.state;
    const start = this.state[layout.blockStart]!;
    const end = this.state[layout.outputLength]!;
    if (end === start) return undefined;
    this.state[layout.blockStart] = end;
    return this.blockOf(start, end);
  }

  /** The block at output[start, end): its entries are the next ones, up to the next that starts a block (offset 0). */
  private blockOf(start: number, end: number): MergedBlock {
    const first = this.entriesTaken;
    const entries = this.state[this.native.state.entries]!;
    let last = first + 1;
    while (last < entries && this.offsets[last] !== 0) last++;
    this.entriesTaken = last;
    return {
      bytes: this.output.subarray(start, end),
      hashes: this.hashes.subarray(first, last),
      offsets: this.offsets.subarray(first, last),
    };
  }

  private corruption(status: number, input: number): CorruptionError {
    const path = this.inputs[input]?.path ?? 'a merge input';
    const detail =
      status === this.native.status.order
        ? 'its keys do not ascend from one block to the next'
        : status === this.native.status.malformed
          ? 'an entry runs past the end of its block'
          : `the merge loop returned an unknown status ${status}`;
    return new CorruptionError(path, undefined, detail);
  }
}
