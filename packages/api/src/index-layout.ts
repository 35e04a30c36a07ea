import { join } from 'node:path';
import { MANIFEST_FILE, segmentFileName } from '@silt/segments';

/** The index directory's subdirectory of write-ahead log files. */
export const WAL_DIRECTORY = 'wal';
/** The index directory's subdirectory of segment files. */
export const SEGMENTS_DIRECTORY = 'segments';

/** Where each part of an index lives inside its directory (see DESIGN.md, "On disk"). */
export class IndexLayout {
  readonly walDirectory: string;
  readonly segmentsDirectory: string;
  readonly manifestPath: string;

  constructor(readonly directory: string) {
    this.walDirectory = join(directory, WAL_DIRECTORY);
    this.segmentsDirectory = join(directory, SEGMENTS_DIRECTORY);
    this.manifestPath = join(directory, MANIFEST_FILE);
  }

  segmentPath(id: number): string {
    return join(this.directory, segmentFileName(id));
  }
}
