import { CorruptionError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import { ENTRY_HEADER_BYTES, HASH_SLOT_BYTES } from './format.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import type { SegmentFooter } from './segment-footer.js';
import type { SegmentHeader } from './segment-header.js';
import { KeyFilter } from './key-filter.js';

/**
 * The reader's view of the hash section: slot words (word 0: tag | offset
 * << 16, word 1: block, -1 when empty), every slot checked at open so a
 * probe can trust every block number and offset it meets, and always finds
 * an empty slot to stop at.
 *
 * Readers of every access mode keep every slot in memory (8 bytes a slot,
 * 10.7 to 21.3 bytes a distinct key; in `memory` and `mmap` mode a view of
 * the file's bytes, in `file` mode a copy): a `file`-mode probe that read
 * its slots from the file cost a positioned read per get, as much as the block's.
 */
export interface HashIndex {
  readonly slots: Int32Array;
  readonly mask: number;
  /**
   * Which keys the segment may hold (KeyFilter), derived from the slots: a
   * probe for a key it turns away touches no slot. A get over a stack of
   * segments asks each one, and most do not hold the key; their slots are
   * tens of KiB to MiB apiece, a cache miss each. Undefined for segments of
   * more than KEY_FILTER_MAX_KEYS keys.
   */
  readonly filter: KeyFilter | undefined;
}

export const EMPTY_SLOT = -1;

/** Checks one slot against the block index; throws CorruptionError naming it. */
export function checkSlot(
  word: number,
  block: number,
  slot: number,
  at: number,
  header: SegmentHeader,
  blocks: BlockIndex,
  file: string,
): void {
  if (block === EMPTY_SLOT) {
    if (word !== 0) throw new CorruptionError(file, at, `hash slot ${slot} is empty but not zeroed`);
    return;
  }
  const offset = word >>> 16;
  if (block >>> 0 >= blocks.count || offset >= header.blockSize || offset + ENTRY_HEADER_BYTES > blocks.length(block >>> 0)) {
    throw new CorruptionError(file, at, `hash slot ${slot} names block ${block >>> 0} offset ${offset}, which does not exist`);
  }
}

/**
 * Checks the hash section, handed over in pieces of whole slots (the
 * checksum is the caller's), and counts its keys against the footer.
 */
export class HashSectionCheck {
  private slot = 0;
  private occupied = 0;

  constructor(
    private readonly footer: SegmentFooter,
    private readonly header: SegmentHeader,
    private readonly blocks: BlockIndex,
    private readonly file: string,
  ) {}

  feed(piece: Uint8Array): void {
    const words = littleEndianAsInt32Array(piece);
    for (let i = 0; i < words.length; i += 2, this.slot++) {
      const word = words[i]!;
      const block = words[i + 1]!;
      checkSlot(word, block, this.slot, this.footer.hashOffset + this.slot * HASH_SLOT_BYTES, this.header, this.blocks, this.file);
      if (block === EMPTY_SLOT) continue;
      this.occupied++;
    }
  }

  finish(slots: Int32Array): HashIndex {
    if (this.occupied !== this.footer.distinctKeyCount) {
      throw new CorruptionError(
        this.file,
        this.footer.hashOffset,
        `hash index holds ${this.occupied} keys, the footer says ${this.footer.distinctKeyCount}`,
      );
    }
    return { slots, mask: this.slot - 1, filter: KeyFilter.ofSlots(slots, this.occupied) };
  }
}
