import { SeededRandom } from '@silt/fs/internal';
import { opsPerSecond } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';

/** Random distinct keys with fixed-size values, and one shuffled order to read them back in. */
export interface KeyValueDataset {
  /** Distinct ASCII keys in the random order they were generated (the write order). */
  readonly keys: readonly string[];
  /** `values[i]` belongs to `keys[i]`; ASCII, so `valueBytes` long in any encoding. */
  readonly values: readonly string[];
  readonly valueBytes: number;
  /** `[key, value]` pairs in write order, cut into batches of `batchSize`. */
  readonly pairBatches: ReadonlyArray<ReadonlyArray<readonly [string, string]>>;
  /**
   * Every key once, shuffled: the one lookup order every engine uses. Fresh
   * string copies allocated in lookup order, as request keys arrive in a
   * server, so the bench's own heap adds no cache miss per lookup that would
   * blur the ratios.
   */
  readonly lookups: readonly string[];
}

export interface DatasetShape {
  readonly count: number;
  readonly keyBytes: number;
  readonly valueBytes: number;
  readonly batchSize: number;
  readonly seed: number;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function makeKeyValueDataset(shape: DatasetShape): KeyValueDataset {
  const random = new SeededRandom(shape.seed);
  const keys = randomKeys(random, shape.count, shape.keyBytes);
  const values = keys.map((key, i) => flat(`${i}:${key}:`.padEnd(shape.valueBytes, BASE64URL[i % BASE64URL.length])));
  return datasetOf(keys, values, shape.valueBytes, shape.batchSize, random);
}

/** The dataset of given keys and values (every value `valueBytes` long), read back in an order shuffled by `random`. */
export function datasetOf(
  keys: readonly string[],
  values: readonly string[],
  valueBytes: number,
  batchSize: number,
  random: SeededRandom,
): KeyValueDataset {
  const pairBatches: Array<Array<readonly [string, string]>> = [];
  for (let start = 0; start < keys.length; start += batchSize) {
    const end = Math.min(keys.length, start + batchSize);
    pairBatches.push(keys.slice(start, end).map((key, i) => [key, values[start + i]!] as const));
  }
  const lookups = Array.from(shuffledIndexes(random, keys.length), (i) => flat(keys[i]!));
  return { keys, values, valueBytes, pairBatches, lookups };
}

function randomKeys(random: SeededRandom, count: number, keyBytes: number): string[] {
  const unique = new Set<string>();
  while (unique.size < count) {
    const codes = new Array<number>(keyBytes);
    for (let i = 0; i < keyBytes; i++) codes[i] = BASE64URL.charCodeAt(Math.floor(random.next() * BASE64URL.length));
    unique.add(String.fromCharCode(...codes));
  }
  return [...unique];
}

/**
 * A fresh copy of an ASCII string in one flat piece. Strings built by `+=`,
 * templates or padEnd are rope (cons) strings that V8 flattens on first use,
 * and whichever engine touched them first would pay for it.
 */
function flat(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/**
 * A pass that reads every key in the shared lookup order and checks each
 * answer and the total value bytes, so no engine can skip work.
 */
export function checkedGetPass(data: KeyValueDataset, get: (key: string) => string | Uint8Array | undefined): () => void {
  return () => {
    const { lookups } = data;
    let total = 0;
    for (let i = 0; i < lookups.length; i++) {
      const value = get(lookups[i]!);
      if (value === undefined) throw new Error(`lost key ${lookups[i]!}`);
      total += value.length;
    }
    const expected = lookups.length * data.valueBytes;
    if (total !== expected) throw new Error(`read ${total} value bytes, expected ${expected}`);
  };
}

/** Fisher-Yates over 0..count-1. */
export function shuffledIndexes(random: SeededRandom, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** One untimed pass over every key (JIT, first-touch faults, silt's first-use block checks), then one timed pass. */
export function warmGetRate(data: KeyValueDataset, get: (key: string) => string | Uint8Array | undefined): Promise<number> {
  const pass = checkedGetPass(data, get);
  pass();
  return opsPerSecond(data.lookups.length, pass);
}

/**
 * `rounds` timed runs of each engine's get pass (`checkedGetPass`, warmed
 * already), the engines taking turns (`interleavedRounds`): each engine's
 * gets per second, a round each.
 */
export function getRatesInTurns<Name extends string>(
  data: KeyValueDataset,
  rounds: number,
  passes: Record<Name, () => void>,
): Promise<Record<Name, number[]>> {
  const timed = Object.fromEntries(
    Object.entries<() => void>(passes).map(([name, pass]) => [name, () => opsPerSecond(data.lookups.length, pass)]),
  ) as Record<Name, () => Promise<number>>;
  return interleavedRounds(rounds, timed);
}
