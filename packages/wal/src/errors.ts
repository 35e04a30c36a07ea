import { SiltError } from '@silt/fs';

/**
 * A record whose checksum verifies carries a format version this reader does
 * not know: the log was written by a newer @silt/wal. Nothing is repaired or
 * dropped (not even with `recovery: 'keepValidPrefix'`); upgrade the reader.
 */
export class UnsupportedWalVersionError extends SiltError {
  readonly code = 'SILT_WAL_UNSUPPORTED_VERSION';
  readonly file: string;
  readonly offset: number;
  readonly version: number;

  constructor(file: string, offset: number, version: number) {
    super(
      `${file} at offset ${offset} holds a WAL record of format version ${version}; this @silt/wal reads version 1 only, upgrade it to read this log`,
    );
    this.file = file;
    this.offset = offset;
    this.version = version;
  }
}
