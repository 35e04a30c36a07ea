import type { Index, WriterIndexStats } from 'silt';

/** A bench's index is opened alone, so its process is the writer; anything else makes its figures meaningless. */
export function writerStats(index: Pick<Index, 'stats'>): WriterIndexStats {
  const stats = index.stats();
  if (stats.role !== 'writer') throw new Error(`the bench's index is a ${stats.role}, not the writer`);
  return stats;
}
