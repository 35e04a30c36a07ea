import type { Index } from '../index-handle.js';
import type { ReadOnlyIndex } from '@silt/reader';

/** One acknowledged write: a put (value) or a delete (undefined), with the sequence number the index gave it. */
export interface ModelWrite {
  readonly sequence: number;
  readonly key: string;
  readonly value: string | undefined;
}

/** What a set of sequence numbers says about one sequence number. */
export type SequencePredicate = (sequence: number) => boolean;

/**
 * Every acknowledged write of a test index, in sequence order, so a test can
 * say exactly what any recovery must read: the state after writes 1..n, or
 * after every write except those whose sequence numbers were lost.
 * Sequence numbers are counted here as the index hands them out (one per
 * operation, an mset's in order, from 1), so the writes must be awaited one
 * call at a time.
 */
export class WriteModel {
  readonly writes: ModelWrite[] = [];
  private readonly keys = new Set<string>();

  get lastSequence(): number {
    return this.writes.length;
  }

  /** Every key ever written, deleted ones included. */
  get allKeys(): readonly string[] {
    return [...this.keys].sort();
  }

  /** Records the next write; returns its sequence number. */
  record(key: string, value: string | undefined): number {
    const sequence = this.writes.length + 1;
    this.writes.push({ sequence, key, value });
    this.keys.add(key);
    return sequence;
  }

  /** The live keys and values once writes 1..`sequence` are applied. */
  stateAt(sequence: number): Map<string, string> {
    return this.stateOf((write) => write.sequence <= sequence);
  }

  /** The live keys and values once every write is applied except those `lost` names. */
  stateWithout(lost: SequencePredicate): Map<string, string> {
    return this.stateOf((write) => !lost(write.sequence));
  }

  /** The largest n whose state is `observed`, or undefined when no prefix of the writes gives it. */
  prefixMatching(observed: ReadonlyMap<string, string>): number | undefined {
    for (let n = this.lastSequence; n >= 0; n--) if (sameState(this.stateAt(n), observed)) return n;
    return undefined;
  }

  private stateOf(applies: (write: ModelWrite) => boolean): Map<string, string> {
    const state = new Map<string, string>();
    for (const write of this.writes) {
      if (!applies(write)) continue;
      if (write.value === undefined) state.delete(write.key);
      else state.set(write.key, write.value);
    }
    return state;
  }
}

export function sameState(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

/**
 * What an open index serves, read two ways that must agree: a full range
 * scan (so a key outside the model shows up) and a `get` of every key the
 * model knows (the point-read path). A value that is not a string, or a
 * get that disagrees with the scan, is an error naming the key.
 */
export function readServedState(index: Pick<Index | ReadOnlyIndex, 'get' | 'range'>, knownKeys: readonly string[]): Map<string, string> {
  const scanned = new Map<string, string>();
  for (const [key, value] of index.range()) {
    if (typeof key !== 'string' || typeof value !== 'string') throw new Error(`the scan served a non-text entry ${String(key)}`);
    scanned.set(key, value);
  }
  for (const key of knownKeys) {
    const value = index.get(key);
    if (value !== undefined && typeof value !== 'string') throw new Error(`get(${key}) served a non-text value`);
    if (value !== scanned.get(key)) throw new Error(`get(${key}) served ${String(value)} but the scan ${String(scanned.get(key))}`);
  }
  return scanned;
}

/** The keys whose values differ between two states, for a failure message. */
export function describeDifference(expected: ReadonlyMap<string, string>, served: ReadonlyMap<string, string>, limit = 6): string {
  const differing: string[] = [];
  for (const key of new Set([...expected.keys(), ...served.keys()])) {
    if (expected.get(key) !== served.get(key))
      differing.push(`${key}: expected ${expected.get(key) ?? '(absent)'}, served ${served.get(key) ?? '(absent)'}`);
  }
  return `${differing.length} key(s) differ: ${differing.slice(0, limit).join('; ')}${differing.length > limit ? '; ...' : ''}`;
}
