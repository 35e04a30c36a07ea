import { crc32 } from '@silt/fs/internal';
import { CorruptionError } from '@silt/fs';
import {
  FORMAT_VERSION,
  HEADER,
  HEADER_BYTES,
  HEADER_FLAG_MULTI_VALUE,
  HEADER_MAGIC,
  HEADER_STABLE_BYTES,
  MAX_BLOCK_SIZE,
  MIN_BLOCK_SIZE,
} from './format.js';
import { readU32, writeU32 } from './little-endian.js';
import { UnsupportedVersionError } from './segment-errors.js';

export interface SegmentHeader {
  readonly version: number;
  readonly multiValue: boolean;
  readonly blockSize: number;
}

export function encodeHeader(multiValue: boolean, blockSize: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes.set(HEADER_MAGIC, HEADER.magic);
  writeU32(bytes, HEADER.version, FORMAT_VERSION);
  writeU32(bytes, HEADER.versionCrc, crc32(bytes.subarray(0, HEADER.versionCrc)));
  writeU32(bytes, HEADER.flags, multiValue ? HEADER_FLAG_MULTI_VALUE : 0);
  writeU32(bytes, HEADER.blockSize, blockSize);
  writeU32(bytes, HEADER.headerCrc, crc32(bytes.subarray(HEADER.flags, HEADER.headerCrc)));
  return bytes;
}

/**
 * Reads the header from the file's first bytes (fewer than 32 if the file is
 * shorter). The stable part comes first, so a newer version is reported as
 * such before anything version-specific is interpreted.
 */
export function decodeHeader(bytes: Uint8Array, file: string): SegmentHeader {
  if (bytes.length < HEADER_STABLE_BYTES) {
    throw new CorruptionError(
      file,
      0,
      `the file is ${bytes.length} bytes, too short to be a segment (the header alone is ${HEADER_BYTES})`,
    );
  }
  for (let i = 0; i < HEADER_MAGIC.length; i++) {
    if (bytes[i] !== HEADER_MAGIC[i]) {
      const found = Buffer.from(bytes.subarray(0, HEADER_MAGIC.length)).toString('hex');
      throw new CorruptionError(file, 0, `not a segment file: magic is ${found}, expected ${Buffer.from(HEADER_MAGIC).toString('hex')}`);
    }
  }
  if (readU32(bytes, HEADER.versionCrc) !== crc32(bytes.subarray(0, HEADER.versionCrc))) {
    throw new CorruptionError(file, HEADER.version, 'format version checksum mismatch');
  }
  const version = readU32(bytes, HEADER.version);
  if (version === 0) throw new CorruptionError(file, HEADER.version, 'format version 0 does not exist');
  if (version > FORMAT_VERSION) throw new UnsupportedVersionError(file, version);
  if (bytes.length < HEADER_BYTES) {
    throw new CorruptionError(file, bytes.length, `the file ends inside the ${HEADER_BYTES}-byte header`);
  }
  if (readU32(bytes, HEADER.headerCrc) !== crc32(bytes.subarray(HEADER.flags, HEADER.headerCrc))) {
    throw new CorruptionError(file, HEADER.flags, 'header checksum mismatch');
  }
  const flags = readU32(bytes, HEADER.flags);
  if ((flags & ~HEADER_FLAG_MULTI_VALUE) !== 0)
    throw new CorruptionError(file, HEADER.flags, `unknown header flags 0x${flags.toString(16)}`);
  if (readU32(bytes, HEADER.reserved) !== 0) throw new CorruptionError(file, HEADER.reserved, 'reserved header word is not 0');
  const blockSize = readU32(bytes, HEADER.blockSize);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw new CorruptionError(file, HEADER.blockSize, `block size ${blockSize} is outside ${MIN_BLOCK_SIZE}..${MAX_BLOCK_SIZE}`);
  }
  return { version, multiValue: (flags & HEADER_FLAG_MULTI_VALUE) !== 0, blockSize };
}
