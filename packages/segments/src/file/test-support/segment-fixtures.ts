import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '@silt/fs/internal';
import { buildSegment, SegmentBuilder, type SegmentInput } from '../segment-builder.js';
import type { SegmentBuilderOptions } from '../segment-options.js';

/** Shared by the segment tests: sample entries, built segments. */

let counter = 0;

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

/** Builds a new file in `dir` whose entries `fill` adds, and returns its path. */
export async function buildWith(
  dir: string,
  options: Partial<SegmentBuilderOptions>,
  fill: (builder: SegmentBuilder) => void,
): Promise<string> {
  const path = newSegmentPath(dir);
  const builder = SegmentBuilder.create(path, { ...SEQUENCES, ...options });
  fill(builder);
  await builder.finish();
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

/**
 * Every kind of entry `add` distinguishes: string values (ASCII, not ASCII,
 * empty), byte values, bytes marked as text (ASCII and not), tombstones;
 * keys and values under and over the 256 bytes where copying changes
 * method; string keys (some not ASCII) and byte keys; ascending by bytes.
 */
export function variedEntries(count: number, options: { tombstones: boolean; repeatKeys: boolean }): SegmentInput[] {
  const random = new SeededRandom(count);
  const entries: SegmentInput[] = [];
  for (let i = 0; i < count; i++) {
    const stem = `k/${String(i).padStart(5, '0')}/`;
    const key = i % 50 === 7 ? `${stem}${'long'.repeat(80)}` : i % 4 === 1 ? `${stem}ключ` : stem;
    for (let copy = 0; copy < (options.repeatKeys && i % 3 === 0 ? 2 : 1); copy++)
      entries.push(entryOf(i + copy, key, random, options.tombstones));
  }
  for (let i = 0; i < 5; i++) entries.push({ kind: 'put', key: Uint8Array.of(0xff, 0x00, i), value: random.bytes(i * 90) });
  return entries;
}

function entryOf(i: number, key: string, random: SeededRandom, tombstones: boolean): SegmentInput {
  switch (i % 9) {
    case 0:
      return { kind: 'put', key, value: `ascii ${i} ${'x'.repeat(random.intBetween(0, 400))}` };
    case 1:
      return { kind: 'put', key, value: `ünïcödé ${i} ${'€'.repeat(random.intBetween(0, 120))}` };
    case 2:
      return { kind: 'put', key, value: '' };
    case 3:
      return { kind: 'put', key, value: random.bytes(random.intBetween(0, 600)) };
    case 4:
      return { kind: 'put', key, value: Buffer.from(`bytes that are ASCII text ${i}`), valueIsText: true };
    case 5:
      return { kind: 'put', key, value: Buffer.from(`bytes that are UTF-8 text ${i} 日本`), valueIsText: true };
    case 6:
      return { kind: 'put', key, value: Uint8Array.of(0x80, 0xff, i & 0xff) };
    case 7:
      return { kind: 'put', key, value: new Uint8Array(0), valueIsText: true };
    default:
      return tombstones ? { kind: 'tombstone', key } : { kind: 'put', key, value: Uint8Array.of(i & 0xff) };
  }
}

/** The block layouts a builder path is checked in against `add`: every kind of entry of `variedEntries`, in each. */
export const BUILDER_LAYOUTS: ReadonlyArray<{ name: string; options: Partial<SegmentBuilderOptions>; entries: SegmentInput[] }> = [
  { name: 'default blocks', options: {}, entries: variedEntries(700, { tombstones: true, repeatKeys: false }) },
  { name: '64-byte blocks', options: { blockSize: 64 }, entries: variedEntries(300, { tombstones: true, repeatKeys: false }) },
  {
    name: 'multi-value',
    options: { multiValue: true, blockSize: 256 },
    entries: variedEntries(300, { tombstones: false, repeatKeys: true }),
  },
];
