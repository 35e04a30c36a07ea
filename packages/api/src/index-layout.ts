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

const SEGMENT_NAME = /^([1-9]\d{0,15})\.seg$/;

/** The id a name in `segments/` stands for, or undefined for a name that is not a segment's. */
export function segmentIdOfFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}
