import { CorruptionError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import { ENTRY_HEADER_BYTES, HASH_SLOT_BYTES } from './format.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import type { SegmentFooter } from './segment-footer.js';
import type { SegmentHeader } from './segment-header.js';

/**
 * The reader's view of the hash section: slot words in one Int32Array
 * (word 0: tag | offset << 16, word 1: block, -1 when empty), checked slot by
 * slot at open so a probe can trust every block number and offset it meets,
 * and always finds an empty slot to stop at.
 */
export interface HashIndex {
  readonly slots: Int32Array;
  readonly mask: number;
}

export const EMPTY_SLOT = -1;

export function loadHashIndex(
  section: Uint8Array,
  footer: SegmentFooter,
  header: SegmentHeader,
  blocks: BlockIndex,
  file: string,
): HashIndex {
  const slots = littleEndianAsInt32Array(section);
  const slotCount = slots.length >>> 1;
  let occupied = 0;
  for (let slot = 0; slot < slotCount; slot++) {
    const word = slots[slot * 2]!;
    const block = slots[slot * 2 + 1]!;
    const at = footer.hashOffset + slot * HASH_SLOT_BYTES;
    if (block === EMPTY_SLOT) {
      if (word !== 0) throw new CorruptionError(file, at, `hash slot ${slot} is empty but not zeroed`);
      continue;
    }
    const offset = word >>> 16;
    if (block >>> 0 >= blocks.count || offset >= header.blockSize || offset + ENTRY_HEADER_BYTES > blocks.length(block >>> 0)) {
      throw new CorruptionError(file, at, `hash slot ${slot} names block ${block >>> 0} offset ${offset}, which does not exist`);
    }
    occupied++;
  }
  if (occupied !== footer.distinctKeyCount) {
    throw new CorruptionError(file, footer.hashOffset, `hash index holds ${occupied} keys, the footer says ${footer.distinctKeyCount}`);
  }
  return { slots, mask: slotCount - 1 };
}
