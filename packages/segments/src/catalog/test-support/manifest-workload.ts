import type { Manifest } from '../manifest.js';
import type { Generation } from '../manifest-schema.js';

/**
 * A deterministic commit workload, the same in the parent and in child
 * programs: generation g is a merge of the two oldest live segments when
 * g % 4 === 0 (and there are two), otherwise a flush of the next
 * SEQUENCES_PER_FLUSH sequence numbers that moves the WAL position.
 */
export const SEQUENCES_PER_FLUSH = 10;

export function commitNextStep(manifest: Manifest): Generation {
  const current = manifest.current();
  const [oldest, second] = current.segments;
  if (isMergeStep(current.generation + 1, current.segments.length) && oldest !== undefined && second !== undefined) {
    return manifest.commit({
      remove: [oldest.id, second.id],
      add: [
        {
          id: manifest.allocateSegmentId(),
          minSequence: oldest.minSequence,
          maxSequence: second.maxSequence,
          minKey: oldest.minKey,
          maxKey: second.maxKey,
          bytes: oldest.bytes + second.bytes,
          entries: oldest.entries + second.entries,
          tombstones: oldest.tombstones + second.tombstones,
        },
      ],
    });
  }
  const minSequence = current.walCoveredSequence + 1;
  const maxSequence = current.walCoveredSequence + SEQUENCES_PER_FLUSH;
  const key = new TextEncoder().encode(`key-${minSequence}`);
  return manifest.commit({
    add: [
      {
        id: manifest.allocateSegmentId(),
        minSequence,
        maxSequence,
        minKey: key,
        maxKey: key,
        bytes: 100,
        entries: SEQUENCES_PER_FLUSH,
        tombstones: 1,
      },
    ],
    walCoveredSequence: maxSequence,
  });
}

function isMergeStep(generation: number, liveCount: number): boolean {
  return generation % 4 === 0 && liveCount >= 2;
}

/** The sequence ranges the workload's generation `generation` must consist of, oldest first. */
export function expectedRanges(generation: number): Array<[number, number]> {
  let ranges: Array<[number, number]> = [];
  let covered = 0;
  for (let next = 1; next <= generation; next += 1) {
    const [oldest, second, ...rest] = ranges;
    if (isMergeStep(next, ranges.length) && oldest !== undefined && second !== undefined) {
      ranges = [[oldest[0], second[1]], ...rest];
    } else {
      ranges.push([covered + 1, covered + SEQUENCES_PER_FLUSH]);
      covered += SEQUENCES_PER_FLUSH;
    }
  }
  return ranges;
}

/** What a child prints about a generation it read: enough to compare with what was committed. */
export function summarize(generation: Generation): string {
  return JSON.stringify({
    generation: generation.generation,
    walCoveredSequence: generation.walCoveredSequence,
    segments: generation.segments.map((segment) => [segment.id, segment.minSequence, segment.maxSequence]),
  });
}
