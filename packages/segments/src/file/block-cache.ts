/** A cached block. */
export interface CacheNode {
  readonly block: number;
  /** The memory the block lives in, capacity rounded up so frames can be reused by similar blocks. */
  readonly frame: Buffer;
  readonly bytes: Buffer;
}

/** A cached block and its place in the recency list, which only the cache moves. */
interface RecencyNode extends CacheNode {
  newer: RecencyNode | undefined;
  older: RecencyNode | undefined;
}

const FRAME_GRANULE = 512;
/** A frame is reused for a block needing up to this much less than the frame holds. */
const FRAME_REUSE_SLACK = 2 * FRAME_GRANULE;

/**
 * The least-recently-used block cache of `file` mode, bounded by the bytes
 * it holds. A lookup is an array index by block number (a Map's hash lookup
 * was 4 % of a `file`-mode get that misses; the array costs 8 bytes a block
 * of the segment, beside the block index's 14 and a key), and a hit a few
 * pointer moves. Evicted frames are reused for the incoming block when their
 * size fits, so a steady stream of misses allocates nothing (which is why
 * bytes from the cache are only valid until the next block is read).
 */
export class BlockCache {
  /** By block number. */
  private readonly nodes: Array<RecencyNode | undefined>;
  private count = 0;
  private newest: RecencyNode | undefined;
  private oldest: RecencyNode | undefined;
  private used = 0;

  /** A cache for blocks numbered 0 to `blockCount` - 1. */
  constructor(
    readonly capacityBytes: number,
    blockCount: number,
  ) {
    this.nodes = new Array<RecencyNode | undefined>(blockCount).fill(undefined);
  }

  /** Bytes of frames held. */
  get usedBytes(): number {
    return this.used;
  }

  get size(): number {
    return this.count;
  }

  /** Whether `block` is cached, without making it more recent. */
  has(block: number): boolean {
    return this.nodes[block] !== undefined;
  }

  get(block: number): CacheNode | undefined {
    const node = this.nodes[block];
    if (node !== undefined && node !== this.newest) {
      this.unlink(node);
      this.pushNewest(node);
    }
    return node;
  }

  /**
   * A new most-recent node with room for `length` bytes of `block`, evicting
   * the least recently used blocks to make room; undefined when `length`
   * exceeds the whole capacity (the caller reads such a block uncached).
   */
  claim(block: number, length: number): CacheNode | undefined {
    const capacity = Math.max(FRAME_GRANULE, Math.ceil(length / FRAME_GRANULE) * FRAME_GRANULE);
    if (capacity > this.capacityBytes) return undefined;
    let reusable: Buffer | undefined;
    while (this.used + capacity > this.capacityBytes && this.oldest !== undefined) {
      const frame = this.evict(this.oldest);
      if (reusable === undefined && frame.length >= capacity && frame.length <= capacity + FRAME_REUSE_SLACK) reusable = frame;
    }
    const frame = reusable ?? Buffer.allocUnsafeSlow(capacity);
    const node: RecencyNode = { block, frame, bytes: frame.subarray(0, length), newer: undefined, older: undefined };
    this.nodes[block] = node;
    this.count++;
    this.pushNewest(node);
    this.used += frame.length;
    return node;
  }

  /** Forgets a block (one that failed verification). */
  drop(block: number): void {
    const node = this.nodes[block];
    if (node !== undefined) this.evict(node);
  }

  clear(): void {
    while (this.oldest !== undefined) this.evict(this.oldest);
  }

  private evict(node: RecencyNode): Buffer {
    this.unlink(node);
    this.nodes[node.block] = undefined;
    this.count--;
    this.used -= node.frame.length;
    return node.frame;
  }

  private unlink(node: RecencyNode): void {
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }

  private pushNewest(node: RecencyNode): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = node;
    else this.oldest = node;
    this.newest = node;
  }
}
