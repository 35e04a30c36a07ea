import type { EntrySource, Lookup, SourceEntry, SourceRange } from '../entry-source.js';
import { compareBytes } from '../key-bytes.js';
import { boundsOf, isWithin } from '../key-range.js';

/** An EntrySource over a plain array, the simplest thing that can be right. */
export class ArraySource implements EntrySource {
  private readonly sorted: SourceEntry[];

  constructor(entries: readonly SourceEntry[]) {
    const byKey = new Map<string, SourceEntry>();
    for (const entry of entries) byKey.set(Buffer.from(entry.key).toString('latin1'), entry);
    this.sorted = [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  lookup(key: Uint8Array): Lookup | undefined {
    const entry = this.sorted.find((candidate) => compareBytes(candidate.key, key) === 0);
    if (entry === undefined) return undefined;
    return entry.kind === 'put' ? { kind: 'put', value: entry.value } : { kind: 'tombstone' };
  }

  entries(range: SourceRange): Iterator<SourceEntry> {
    const bounds = boundsOf(range);
    const inside = this.sorted.filter((entry) => isWithin(entry.key, bounds));
    return (range.reverse === true ? inside.reverse() : inside)[Symbol.iterator]();
  }
}

const encoder = new TextEncoder();

export function put(key: string, value: string): SourceEntry {
  return { key: encoder.encode(key), kind: 'put', value };
}

export function tombstone(key: string): SourceEntry {
  return { key: encoder.encode(key), kind: 'tombstone' };
}
