import { crc32 } from 'node:zlib';
import { CorruptionError } from '@silt/fs';
import { BLOCK_RECORD_FIXED_BYTES, FOOTER, FOOTER_BYTES, HEADER, HEADER_BYTES } from '../format.js';
import { readU16, readU32, readU64, writeU32 } from '../little-endian.js';
import type { Key } from '../key-bytes.js';
import type { SegmentReader } from '../segment-reader.js';

/**
 * Tools for damaging segments on purpose: where each section lies, putting
 * every checksum right again after a change (so the parser itself, not a
 * checksum, meets the change), and a canonical record of everything a
 * reader returns, to compare a damaged segment's answers with the original's.
 */

export type SectionName = 'header' | 'data' | 'blockIndex' | 'hash' | 'keyRange' | 'footer';

export interface Section {
  readonly name: SectionName;
  readonly start: number;
  readonly end: number;
}

/** The sections of an intact segment, from its footer. The header and footer exclude their own checksum fields. */
export function sectionsOf(bytes: Uint8Array): Section[] {
  const footerAt = bytes.length - FOOTER_BYTES;
  const field = (name: keyof typeof FOOTER): number => readU64(bytes, footerAt + FOOTER[name]);
  return [
    { name: 'header', start: HEADER.version, end: HEADER.headerCrc },
    { name: 'data', start: HEADER_BYTES, end: HEADER_BYTES + field('dataLength') },
    { name: 'blockIndex', start: field('blockIndexOffset'), end: field('blockIndexOffset') + field('blockIndexLength') },
    { name: 'hash', start: field('hashOffset'), end: field('hashOffset') + field('hashLength') },
    { name: 'keyRange', start: field('keyRangeOffset'), end: field('keyRangeOffset') + field('keyRangeLength') },
    { name: 'footer', start: footerAt, end: footerAt + FOOTER.footerCrc },
  ];
}

/**
 * Recomputes, in place, every checksum of a segment whose bytes were changed:
 * the header's two, each block's (as far as the block index still describes
 * blocks inside the data section), each index section's, and the footer's.
 * Fields that no longer describe anything sensible are left as they are.
 */
export function resealSegment(bytes: Uint8Array): void {
  if (bytes.length >= HEADER_BYTES) {
    writeU32(bytes, HEADER.versionCrc, crc32(bytes.subarray(0, HEADER.versionCrc)));
    writeU32(bytes, HEADER.headerCrc, crc32(bytes.subarray(HEADER.flags, HEADER.headerCrc)));
  }
  const footerAt = bytes.length - FOOTER_BYTES;
  if (footerAt < HEADER_BYTES) return;
  const field = (name: keyof typeof FOOTER): number => readU64(bytes, footerAt + FOOTER[name]);
  const fits = (start: number, length: number): boolean => Number.isSafeInteger(start + length) && start >= 0 && start + length <= footerAt;
  const dataEnd = HEADER_BYTES + field('dataLength');
  const indexStart = field('blockIndexOffset');
  const indexLength = field('blockIndexLength');
  if (fits(indexStart, indexLength) && dataEnd <= footerAt) {
    let record = indexStart;
    let block = HEADER_BYTES;
    while (record + BLOCK_RECORD_FIXED_BYTES <= indexStart + indexLength) {
      const length = readU32(bytes, record);
      if (block + length > dataEnd) break;
      writeU32(bytes, record + 4, crc32(bytes.subarray(block, block + length)));
      block += length;
      record += BLOCK_RECORD_FIXED_BYTES + readU16(bytes, record + 8);
    }
  }
  const sections = [
    ['blockIndexOffset', 'blockIndexLength', 'blockIndexCrc'],
    ['hashOffset', 'hashLength', 'hashCrc'],
    ['keyRangeOffset', 'keyRangeLength', 'keyRangeCrc'],
  ] as const;
  for (const [offset, length, crc] of sections) {
    if (fits(field(offset), field(length))) {
      writeU32(bytes, footerAt + FOOTER[crc], crc32(bytes.subarray(field(offset), field(offset) + field(length))));
    }
  }
  writeU32(bytes, footerAt + FOOTER.footerCrc, crc32(bytes.subarray(footerAt, footerAt + FOOTER.footerCrc)));
}

/** One answer of a reader, as a comparable value: strings, byte arrays, numbers and undefined. */
export type Answer = string | number | Uint8Array | undefined;

/**
 * Everything a reader says about a segment, as a flat list of raw answers
 * (cheap to collect, so tens of thousands of damaged copies can be read):
 * every entry in order, the last puts in reverse, a lookup of every key in
 * `probes`, some near, closest-key, getAll and prefix reads, and the stats.
 */
export function readEverything(reader: SegmentReader<Key>, probes: readonly Key[]): Answer[] {
  const answers: Answer[] = [];
  for (const entry of reader.entries()) answers.push(entry.key, entry.kind, entry.kind === 'put' ? entry.value : undefined);
  for (const [key, value] of reader.range({ reverse: true, limit: 20 })) answers.push(key, value);
  for (const key of probes) {
    const found = reader.lookup(key);
    answers.push(found?.kind, found?.kind === 'put' ? found.value : undefined);
  }
  for (const probe of probes.slice(0, 8)) {
    for (const [key] of reader.near(probe, { limit: 3 })) answers.push(key);
    answers.push(reader.closestKey(probe), ...reader.getAll(probe));
  }
  for (const [key] of reader.range({ prefix: 'ban', reverse: true })) answers.push(key);
  const stats: Record<string, unknown> = { ...reader.stats() };
  for (const name of Object.keys(stats).sort()) answers.push(name, stats[name] as Answer);
  return answers;
}

/** Runs `read`; a CorruptionError naming `file` comes back as 'corrupt', any other error is rethrown. */
export function corruptOr<T>(file: string, read: () => T): T | 'corrupt' {
  try {
    return read();
  } catch (error) {
    if (error instanceof CorruptionError && error.file === file) return 'corrupt';
    throw error;
  }
}
