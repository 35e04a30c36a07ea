import { Manifest, type NewSegment } from '@silt/segments';

/**
 * Writes a new manifest at `path` whose one generation holds `segments`
 * (keeping their ids) and covers the log up to `coveredSequence`, with
 * every id below `nextSegmentId` marked handed out, so the index never
 * reuses one. For `silt repair`'s rebuilt manifest and a backup's copy.
 * SQLite makes the commit durable, and closing checkpoints it into the
 * main file: `path` alone then holds it.
 */
export function writeSingleGenerationManifest(
  path: string,
  segments: readonly NewSegment[],
  coveredSequence: number,
  nextSegmentId: number,
): void {
  const manifest = Manifest.open(path);
  try {
    for (let allocated = 1; allocated < nextSegmentId;) {
      const count = Math.min(1_000_000, nextSegmentId - allocated);
      manifest.allocateSegmentIds(count);
      allocated += count;
    }
    // An empty index that covers nothing is generation 0: there is nothing to commit.
    if (segments.length > 0 || coveredSequence > 0) manifest.commit({ add: [...segments], walCoveredSequence: coveredSequence });
  } finally {
    manifest.close();
  }
}

/** The fields of a manifest row a new manifest takes again. */
export function asNewSegment(segment: NewSegment): NewSegment {
  const { id, minSequence, maxSequence, minKey, maxKey, bytes, entries, tombstones } = segment;
  return { id, minSequence, maxSequence, minKey, maxKey, bytes, entries, tombstones };
}
