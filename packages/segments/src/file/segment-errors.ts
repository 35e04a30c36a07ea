import { SiltError, ValidationError } from '@silt/fs';
import { FORMAT_VERSION } from './format.js';
import { describeKey } from './key-bytes.js';

/**
 * The file is a segment (its magic and version checksum are right) but of a
 * newer format version than this reader knows. Nothing is guessed; upgrade
 * @silt/segments to read it.
 */
export class UnsupportedVersionError extends SiltError {
  readonly code = 'SILT_UNSUPPORTED_VERSION';
  readonly file: string;
  readonly version: number;
  readonly supportedVersion: number;

  constructor(file: string, version: number) {
    super(
      `${file} is a segment of format version ${version}; this @silt/segments reads format version ${FORMAT_VERSION} only: upgrade @silt/segments to read it`,
    );
    this.file = file;
    this.version = version;
    this.supportedVersion = FORMAT_VERSION;
  }
}

/**
 * A point read (`get`, `has`, `lookup`, `getAll`) or `verify()` on a reader
 * opened with `SegmentReader.openForScan`, which leaves the hash index
 * unread. Open the segment with `SegmentReader.open` for those.
 */
export class ScanOnlyError extends SiltError {
  readonly code = 'SILT_SCAN_ONLY';
  readonly file: string;

  constructor(file: string, what: string) {
    super(`${file} was opened for scans only (SegmentReader.openForScan), which reads no hash index: ${what} needs SegmentReader.open`);
    this.file = file;
  }
}

/**
 * The builder was given a key that is below the previous one, or equal to it
 * in a segment that is not multi-value. The build stops and its file is removed.
 */
export class KeyOrderError extends ValidationError {
  readonly reason: 'unsorted' | 'duplicate';
  /** 0-based position of the offending entry in the input. */
  readonly entryIndex: number;

  constructor(reason: 'unsorted' | 'duplicate', entryIndex: number, previousKey: Uint8Array, key: Uint8Array) {
    const what =
      reason === 'duplicate'
        ? `duplicates the previous key ${describeKey(key)} (build with multiValue: true to store several values per key)`
        : `${describeKey(key)} is below the previous key ${describeKey(previousKey)}; entries must come in ascending key-byte order`;
    super(`segment entry #${entryIndex} ${what}`);
    this.reason = reason;
    this.entryIndex = entryIndex;
  }
}
