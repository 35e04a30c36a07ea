import { type Key } from '@silt/segments';
import { compareKeys, type Bound, type ScanRange } from '@silt/segments/internal';
import type { EntrySource, Lookup, SourceEntry } from '../entry-source.js';

/** An EntrySource over a plain array, the simplest thing that can be right. */
export class ArraySource implements EntrySource {
  private readonly sorted: SourceEntry[];

  constructor(entries: readonly SourceEntry[]) {
    const byKey = new Map<string, SourceEntry>();
    for (const entry of entries) byKey.set(Buffer.from(entry.key).toString('latin1'), entry);
    this.sorted = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  lookup(key: Key): Lookup | undefined {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    const entry = this.sorted.find((candidate) => compareKeys(candidate.key, bytes) === 0);
    if (entry === undefined) return undefined;
    return entry.kind === 'put' ? { kind: 'put', value: entry.value } : { kind: 'tombstone' };
  }

  entriesIn(range: ScanRange): Iterator<SourceEntry> {
    // `limit` is honoured as a segment honours it, so tests see what a real stack of sources does.
    const { lower, upper, reverse, limit } = range;
    const above = (key: Uint8Array, bound: Bound | undefined): boolean =>
      bound === undefined || compareKeys(key, bound.key) > (bound.inclusive ? -1 : 0);
    const below = (key: Uint8Array, bound: Bound | undefined): boolean =>
      bound === undefined || compareKeys(key, bound.key) < (bound.inclusive ? 1 : 0);
    const inside = this.sorted.filter((entry) => above(entry.key, lower) && below(entry.key, upper));
    return (reverse ? inside.reverse() : inside).slice(0, limit)[Symbol.iterator]();
  }
}

const encoder = new TextEncoder();

export function put(key: string, value: string): SourceEntry {
  return { key: encoder.encode(key), kind: 'put', value };
}

export function tombstone(key: string): SourceEntry {
  return { key: encoder.encode(key), kind: 'tombstone' };
}
