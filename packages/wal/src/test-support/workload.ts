import type { WalEntry, WalRecord } from '../wal-entry.js';

/**
 * Deterministic content: every entry is a function of its sequence number,
 * so a test (or a parent process) can check a recovered log without knowing
 * how the writer batched it, and a writer that restarts reissues the same
 * bytes for the same sequence numbers.
 */

const encoder = new TextEncoder();

/** A small deterministic generator keyed by a number (xorshift32 over a mixed seed). */
function bytesFor(seed: number, length: number, text: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let state = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = text ? 0x61 + (state % 26) : state & 0xff;
  }
  return out;
}

/** Value sizes: mostly small, some medium, a few large enough to span many small records. */
function valueLengthFor(sequence: number): number {
  if (sequence % 97 === 0) return 3000 + (sequence % 1000);
  if (sequence % 13 === 0) return 400 + (sequence % 300);
  return sequence % 120;
}

export function entryFor(sequence: number): WalEntry {
  const key = encoder.encode(`key-${sequence}`);
  if (sequence % 11 === 0) return { kind: 'delete', key };
  const text = sequence % 3 === 0;
  const value = bytesFor(sequence, valueLengthFor(sequence), text);
  return text ? { kind: 'put', key, value, valueIsText: true } : { kind: 'put', key, value };
}

export function batchFor(firstSequence: number, count: number): WalEntry[] {
  return Array.from({ length: count }, (_, i) => entryFor(firstSequence + i));
}

/** Why `entry` is not what sequence number `sequence` carries, or undefined when it is. */
export function entryMismatch(entry: WalEntry, sequence: number): string | undefined {
  const expected = entryFor(sequence);
  if (entry.kind !== expected.kind) return `sequence ${sequence}: kind ${entry.kind}, expected ${expected.kind}`;
  if (!sameBytes(entry.key, expected.key)) return `sequence ${sequence}: wrong key`;
  if (entry.kind === 'put' && expected.kind === 'put') {
    if (!sameBytes(entry.value, expected.value)) return `sequence ${sequence}: wrong value`;
    if ((entry.valueIsText ?? false) !== (expected.valueIsText ?? false)) return `sequence ${sequence}: wrong valueIsText`;
  }
  return undefined;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** A batch acknowledged by the writer. */
export interface Acked {
  readonly firstSeq: number;
  readonly count: number;
}

export interface LogCheckOptions {
  /** The first record must start here (1 for a log never truncated); omit when truncation may have removed a prefix. */
  readonly startsAt?: number;
  /** Batches acknowledged before the crash; each must be present, whole. */
  readonly acked: Iterable<Acked>;
  /** Acked batches below this may have been truncated away. */
  readonly truncatedBelow?: number;
  /** The highest sequence number ever issued: the log may not go past it. */
  readonly issuedThrough?: number;
}

export interface LogSummary {
  readonly first: number;
  readonly last: number;
  readonly records: number;
}

/**
 * Checks that recovered records are a prefix of what was issued (contiguous,
 * each entry the content of its sequence number) holding every acknowledged
 * batch. Throws an Error describing the first violation.
 */
export function checkRecoveredLog(records: readonly WalRecord[], options: LogCheckOptions): LogSummary {
  const batches = new Map<number, number>();
  let expected = options.startsAt ?? records[0]?.firstSeq ?? 1;
  const first = expected;
  for (const record of records) {
    if (record.firstSeq !== expected) throw new Error(`record at ${record.firstSeq} where ${expected} was expected (gap or reordering)`);
    record.entries.forEach((entry, i) => {
      const problem = entryMismatch(entry, record.firstSeq + i);
      if (problem !== undefined) throw new Error(problem);
    });
    batches.set(record.firstSeq, record.entries.length);
    expected += record.entries.length;
  }
  const last = expected - 1;
  if (options.issuedThrough !== undefined && last > options.issuedThrough) {
    throw new Error(`log runs to ${last}, past the last issued sequence number ${options.issuedThrough}`);
  }
  for (const batch of options.acked) {
    if (batch.firstSeq < (options.truncatedBelow ?? 0)) continue;
    const count = batches.get(batch.firstSeq);
    if (count !== batch.count) {
      throw new Error(
        `acknowledged batch ${batch.firstSeq}+${batch.count} is ${count === undefined ? 'missing' : `recovered with ${count} entries`} (log holds ${first}..${last})`,
      );
    }
  }
  return { first, last, records: records.length };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
