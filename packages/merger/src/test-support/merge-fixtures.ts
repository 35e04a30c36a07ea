import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { buildSegment, SegmentReader, type SegmentInput, type Value } from '@silt/segments';
import { compareBytes } from '@silt/segments/internal';
import type { MergeInput } from '../segment-merge.js';

/** Shared by the merge, pool and collector tests: segments written from plain operations, and the model they must equal. */

export type Operation =
  { readonly kind: 'put'; readonly key: Uint8Array; readonly value: Value } | { readonly kind: 'tombstone'; readonly key: Uint8Array };

/** A fresh directory removed when the test file finishes. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `silt-merger-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const byKey = (a: Operation, b: Operation): number => compareBytes(a.key, 0, a.key.length, b.key, 0, b.key.length);

const hex = (key: Uint8Array): string => Buffer.from(key).toString('hex');

/** One segment's worth: the last operation per key, in key order (what a flush writes). */
export function newestPerKey(operations: readonly Operation[]): Operation[] {
  const last = new Map<string, Operation>();
  for (const operation of operations) last.set(hex(operation.key), plain(operation));
  return [...last.values()].sort(byKey);
}

/** The Map model of a merge: newest segment wins per key; tombstones kept unless dropped. */
export function mergeModel(history: ReadonlyArray<readonly Operation[]>, dropTombstones: boolean): Operation[] {
  const merged = newestPerKey(history.flat());
  return dropTombstones ? merged.filter((operation) => operation.kind === 'put') : merged;
}

/** Writes each segment of `history` (oldest first) as `<dir>/<n>.seg`, covering 100 sequences each. */
export async function writeRun(dir: string, history: ReadonlyArray<readonly Operation[]>, firstId = 1): Promise<MergeInput[]> {
  const inputs: MergeInput[] = [];
  for (const [i, operations] of history.entries()) {
    const input = { path: join(dir, `${firstId + i}.seg`), minSequence: (firstId + i) * 100, maxSequence: (firstId + i) * 100 + 99 };
    await buildSegment(input.path, newestPerKey(operations).map(toSegmentInput), {
      minSequence: input.minSequence,
      maxSequence: input.maxSequence,
    });
    inputs.push(input);
  }
  return inputs;
}

/** A plain object (fast-check's records have no prototype, which deepEqual tells apart). */
function plain(operation: Operation): Operation {
  return operation.kind === 'put' ? { kind: 'put', key: operation.key, value: operation.value } : { kind: 'tombstone', key: operation.key };
}

function toSegmentInput(operation: Operation): SegmentInput {
  return operation.kind === 'put' ? { kind: 'put', key: operation.key, value: operation.value } : { kind: 'tombstone', key: operation.key };
}

/** Every entry of a segment file, tombstones included, keys as bytes. */
export function readOperations(path: string): Operation[] {
  using reader = SegmentReader.open(path, { keyEncoding: 'binary' });
  return [...reader.entries()].map((entry) =>
    entry.kind === 'put' ? { kind: 'put', key: entry.key, value: entry.value } : { kind: 'tombstone', key: entry.key },
  );
}

/** Opens and fully verifies a segment file. */
export function verifySegment(path: string): void {
  using reader = SegmentReader.open(path);
  reader.verify();
}

export function digestOf(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const put = (key: string, value: Value): Operation => ({ kind: 'put', key: text(key), value });
export const tombstone = (key: string): Operation => ({ kind: 'tombstone', key: text(key) });
