import { SiltError } from '@silt/fs';

/** The manifest's format version is one this code cannot read (newer), or cannot bring up to date (older). */
export class ManifestVersionError extends SiltError {
  readonly code = 'SILT_MANIFEST_VERSION';
  readonly path: string;
  readonly foundVersion: number;
  readonly supportedVersion: number;

  constructor(path: string, foundVersion: number, supportedVersion: number, remedy: string) {
    const relation = foundVersion > supportedVersion ? 'newer than' : 'older than';
    super(
      `${path} has manifest format version ${foundVersion}, ${relation} version ${supportedVersion} ` +
        `that this @silt/segments reads; ${remedy}`,
    );
    this.path = path;
    this.foundVersion = foundVersion;
    this.supportedVersion = supportedVersion;
  }
}

/** A reader opened a manifest that does not exist (or whose writer has not initialised it yet). */
export class ManifestNotFoundError extends SiltError {
  readonly code = 'SILT_MANIFEST_NOT_FOUND';
  readonly path: string;

  constructor(path: string, detail: string) {
    super(`no manifest at ${path}: ${detail}`);
    this.path = path;
  }
}

/**
 * A commit removes a segment that is no longer live: another commit (a
 * concurrent merge) already replaced it. The commit changed nothing; drop
 * its output and plan again from the current generation.
 */
export class StaleCommitError extends SiltError {
  readonly code = 'SILT_STALE_COMMIT';
  readonly staleSegmentIds: readonly number[];
  readonly generation: number;

  constructor(staleSegmentIds: readonly number[], generation: number) {
    super(
      `commit removes segment${staleSegmentIds.length === 1 ? '' : 's'} ${staleSegmentIds.join(', ')} ` +
        `that ${staleSegmentIds.length === 1 ? 'is' : 'are'} no longer live in generation ${generation}; nothing was changed`,
    );
    this.staleSegmentIds = staleSegmentIds;
    this.generation = generation;
  }
}

/** The asked-for generation is not readable: not committed yet, or its segment files were collected. */
export class GenerationNotFoundError extends SiltError {
  readonly code = 'SILT_GENERATION_NOT_FOUND';
  readonly generation: number;
  readonly currentGeneration: number;

  constructor(generation: number, currentGeneration: number) {
    const why =
      generation > currentGeneration
        ? `the current generation is ${currentGeneration}`
        : `its segment files were collected; read the current generation (${currentGeneration}) instead`;
    super(`generation ${generation} is not readable: ${why}`);
    this.generation = generation;
    this.currentGeneration = currentGeneration;
  }
}
