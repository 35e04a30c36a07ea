import { join } from 'node:path';
import { MANIFEST_FILE, SEGMENTS_DIRECTORY, segmentFileName, WAL_DIRECTORY } from '@silt/fs';

/**
 * Where each part of an index lives inside its directory, as paths: the
 * names themselves, and the parser that tells them apart, are @silt/fs's
 * `file-names.ts` (see DESIGN.md, "On disk").
 */
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
