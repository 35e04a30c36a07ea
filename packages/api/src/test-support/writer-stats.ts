import type { Index } from '../index-handle.js';
import type { WriterIndexStats } from '../index-stats.js';

/** The stats of an index this process is the writer of; throws if it is not (a test expecting a writer is then wrong). */
export function writerStats(index: Pick<Index, 'stats'>): WriterIndexStats {
  const stats = index.stats();
  if (stats.role !== 'writer') throw new Error(`expected this process to be the writer, but it is a ${stats.role}`);
  return stats;
}
