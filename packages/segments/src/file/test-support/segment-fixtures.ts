import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SeededRandom } from '@silt/fs/internal';
import { buildSegment, type SegmentInput } from '../segment-builder.js';
import type { SegmentBuilderOptions } from '../segment-options.js';

/** Shared by the segment tests: temp directories, sample entries, built segments. */

let counter = 0;

/** A fresh directory removed when the test file finishes. */
export function segmentTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `silt-segment-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A path for a new segment file in `dir`. */
export function newSegmentPath(dir: string): string {
  return join(dir, `${++counter}.seg`);
}

export const SEQUENCES = { minSequence: 10, maxSequence: 20 } as const;

/** Builds `entries` into a new file in `dir` and returns its path. */
export async function buildFile(
  dir: string,
  entries: readonly SegmentInput[],
  options: Partial<SegmentBuilderOptions> = {},
): Promise<string> {
  const path = newSegmentPath(dir);
  await buildSegment(path, entries, { ...SEQUENCES, ...options });
  return path;
}

/** Builds `entries` and returns the file's bytes. */
export async function buildBytes(
  dir: string,
  entries: readonly SegmentInput[],
  options: Partial<SegmentBuilderOptions> = {},
): Promise<Uint8Array> {
  return new Uint8Array(readFileSync(await buildFile(dir, entries, options)));
}

export function keyBytesOf(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? new Uint8Array(Buffer.from(key, 'utf8')) : key;
}

export function compareKeys(a: string | Uint8Array, b: string | Uint8Array): number {
  return Buffer.compare(keyBytesOf(a), keyBytesOf(b));
}

/** Sorts by key bytes and keeps the first entry of each key. */
export function sortedUnique<T extends { readonly key: string | Uint8Array }>(entries: readonly T[]): T[] {
  const sorted = [...entries].sort((a, b) => compareKeys(a.key, b.key));
  return sorted.filter((entry, i) => i === 0 || compareKeys(sorted[i - 1]!.key, entry.key) !== 0);
}

/**
 * A varied, deterministic segment input: string and byte keys (with shared
 * prefixes, non-ASCII text, 0x00 and 0xFF bytes), string values (ASCII and
 * not), byte values, empty values, and tombstones.
 */
export function sampleEntries(count: number, seed = 7): SegmentInput[] {
  const random = new SeededRandom(seed);
  const words = ['apple', 'apricot', 'banana', 'band', 'bandana', 'cherry', 'été', '日本', 'emoji😀', 'zz'];
  const entries: SegmentInput[] = [];
  for (let i = 0; i < count; i++) {
    const key: string | Uint8Array =
      i % 11 === 0
        ? Uint8Array.of(0xff, random.intBetween(0, 255), random.intBetween(0, 255), i & 0xff, i >> 8)
        : i % 13 === 0
          ? Uint8Array.of(0x00, i & 0xff, i >> 8)
          : `${random.pick(words)}/${i.toString(36)}/${random.intBetween(0, 999)}`;
    if (i % 7 === 3) {
      entries.push({ kind: 'tombstone', key });
      continue;
    }
    const length = random.intBetween(0, 160);
    const value: string | Uint8Array =
      i % 5 === 0 ? random.bytes(length) : i % 5 === 1 ? `ünïcödé ${i} ${'€'.repeat(length % 20)}` : `value-${i}-${'x'.repeat(length)}`;
    entries.push({ kind: 'put', key, value });
  }
  return sortedUnique(entries);
}
