import type { BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import { ENTRY_HEADER_BYTES } from './format.js';
import { compareBytes } from './key-bytes.js';
import { readU16, readU32 } from './little-endian.js';
import type { Bound } from './range-options.js';

/** Where the scan stands: valid until the scan is resumed. The same object is reused for every entry. */
export interface ScanPosition {
  bytes: Buffer;
  /** Offset of the entry within `bytes` (which may hold more than its block). */
  at: number;
  block: number;
}

export function entryEnd(bytes: Uint8Array, at: number): number {
  return at + ENTRY_HEADER_BYTES + readU16(bytes, at + 1) + readU32(bytes, at + 3);
}

function orderAgainst(bytes: Uint8Array, at: number, bound: Bound): number {
  return compareBytes(bytes, at + ENTRY_HEADER_BYTES, readU16(bytes, at + 1), bound.key, 0, bound.key.length);
}

function belowLower(bytes: Uint8Array, at: number, lower: Bound): boolean {
  const order = orderAgainst(bytes, at, lower);
  return order < 0 || (order === 0 && !lower.inclusive);
}

function aboveUpper(bytes: Uint8Array, at: number, upper: Bound): boolean {
  const order = orderAgainst(bytes, at, upper);
  return order > 0 || (order === 0 && !upper.inclusive);
}

/**
 * Every entry (puts and tombstones) within the bounds, ascending. Starts in
 * the last block whose first key is below the lower bound (at or below it
 * for an exclusive bound), which is where the first key in range can be even
 * when a run of equal keys spans blocks. Blocks are parsed in place: the
 * verifier already checked their structure. After each yield the block's
 * bytes are asked for again (see BlockSource).
 */
export function* scanForward(
  source: BlockSource,
  blocks: BlockIndex,
  lower: Bound | undefined,
  upper: Bound | undefined,
): Generator<ScanPosition> {
  const position: ScanPosition = { bytes: Buffer.alloc(0), at: 0, block: 0 };
  let block = lower === undefined ? 0 : Math.max(0, blocks.lastBlockBefore(lower.key, !lower.inclusive));
  let reachedLower = lower === undefined;
  for (; block < blocks.count; block++) {
    let bytes = source.bytesOf(block);
    let at = source.blockStart(block);
    const end = at + blocks.length(block);
    while (at < end) {
      const next = entryEnd(bytes, at);
      if (!reachedLower) {
        if (belowLower(bytes, at, lower!)) {
          at = next;
          continue;
        }
        reachedLower = true;
      }
      if (upper !== undefined && aboveUpper(bytes, at, upper)) return;
      yield moveTo(position, bytes, at, block);
      bytes = source.bytesOf(block);
      at = next;
    }
  }
}

/** Every entry within the bounds, descending: from the last block that can hold the upper bound, each block's entries backwards. */
export function* scanBackward(
  source: BlockSource,
  blocks: BlockIndex,
  lower: Bound | undefined,
  upper: Bound | undefined,
): Generator<ScanPosition> {
  const position: ScanPosition = { bytes: Buffer.alloc(0), at: 0, block: 0 };
  let block = upper === undefined ? blocks.count - 1 : blocks.lastBlockBefore(upper.key, upper.inclusive);
  let reachedUpper = upper === undefined;
  for (; block >= 0; block--) {
    let bytes = source.bytesOf(block);
    const start = source.blockStart(block);
    const starts = entryStarts(bytes, start, start + blocks.length(block));
    for (let i = starts.length - 1; i >= 0; i--) {
      const at = starts[i]!;
      if (!reachedUpper) {
        if (aboveUpper(bytes, at, upper!)) continue;
        reachedUpper = true;
      }
      if (lower !== undefined && belowLower(bytes, at, lower)) return;
      yield moveTo(position, bytes, at, block);
      bytes = source.bytesOf(block);
    }
  }
}

function moveTo(position: ScanPosition, bytes: Buffer, at: number, block: number): ScanPosition {
  position.bytes = bytes;
  position.at = at;
  position.block = block;
  return position;
}

function entryStarts(bytes: Uint8Array, start: number, end: number): number[] {
  const starts: number[] = [];
  for (let at = start; at < end; at = entryEnd(bytes, at)) starts.push(at);
  return starts;
}
