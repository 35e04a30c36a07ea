import { CorruptionError, segmentIdOfFileName } from '@silt/fs';

/** Where one damaged file was found, when the damage is a single file's. */
export interface DamageSite {
  readonly file: string;
  readonly offset: number | undefined;
  readonly cause?: unknown;
}

/**
 * Opening an index found damage it will not guess about: a segment file
 * newer than the manifest, a live segment's file missing or not the one
 * its row describes, writes the manifest does not cover and the log no
 * longer holds, or a damaged log or segment. The manifest may have been
 * lost, rolled back or damaged, or files copied in; opening on would serve
 * wrong data or delete good files. Nothing was changed on disk. `silt
 * repair` rebuilds the manifest from the segment files and the log.
 */
export class IndexDamagedError extends CorruptionError {
  readonly directory: string;
  /** One line per finding, naming the file and what is wrong with it. */
  readonly problems: readonly string[];

  constructor(directory: string, problems: readonly string[], site?: DamageSite) {
    const listed = problems.map((problem) => `\n  - ${problem}`).join('');
    super(
      site?.file ?? directory,
      site?.offset,
      `the index in ${directory} cannot be opened as it is, and nothing was changed:${listed}\n` +
        `Run \`silt repair ${directory} --dry-run\` to see what can be recovered, then \`silt repair ${directory}\` to rebuild the manifest ` +
        `from the segment files and the log (it deletes nothing: what it does not use goes to lost+found/).`,
      site?.cause === undefined ? undefined : { cause: site.cause },
    );
    this.directory = directory;
    this.problems = problems;
  }

  /**
   * Damage met while opening, said the one way: a `CorruptionError` becomes
   * an `IndexDamagedError` keeping its file, offset and message; anything
   * else is returned as it is.
   */
  static from(error: unknown, directory: string): unknown {
    if (!(error instanceof CorruptionError) || error instanceof IndexDamagedError) return error;
    return new IndexDamagedError(directory, [error.message], { file: error.file, offset: error.offset, cause: error });
  }
}

/**
 * The problems of segment files (names in `segments/`) whose ids the
 * manifest never handed out: evidence that the manifest is older than its
 * files. List the directory before reading `nextSegmentId`, or a file
 * built meanwhile would look newer than it is.
 */
export function filesNewerThanManifest(names: readonly string[], nextSegmentId: number): string[] {
  return names
    .filter((name) => (segmentIdOfFileName(name) ?? 0) >= nextSegmentId)
    .map(
      (name) =>
        `segments/${name} is not in the manifest, and its id is one the manifest never handed out (the next would be ${nextSegmentId}): the manifest is older than this file`,
    );
}
