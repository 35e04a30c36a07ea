import type { Manifest } from '@silt/segments';

/** Ids reserved per manifest transaction. */
const BLOCK = 32;

/**
 * Hands out segment ids for flushes and merges from blocks reserved in the
 * manifest, so a flush commits one fsync'd SQLite transaction on the
 * event loop, not two. Ids a crash leaves unused are skipped, never reused.
 */
export class SegmentIds {
  private next = 0;
  private end = 0;

  constructor(private readonly manifest: Manifest) {}

  take(): number {
    if (this.next === this.end) {
      this.next = this.manifest.allocateSegmentIds(BLOCK);
      this.end = this.next + BLOCK;
    }
    return this.next++;
  }
}
