import { join } from 'node:path';
import { MANIFEST_FILE, segmentFileName } from '@silt/segments';

/** Where each part of an index lives inside its directory (see DESIGN.md, "On disk"). */
export class IndexLayout {
  readonly walDirectory: string;
  readonly segmentsDirectory: string;
  readonly manifestPath: string;

  constructor(readonly directory: string) {
    this.walDirectory = join(directory, 'wal');
    this.segmentsDirectory = join(directory, 'segments');
    this.manifestPath = join(directory, MANIFEST_FILE);
  }

  segmentPath(id: number): string {
    return join(this.directory, segmentFileName(id));
  }
}
