import { SeededRandom } from '@silt/fs/internal';
import type { Index } from '../index-handle.js';

/**
 * The workload of the crash tests. Operation `id` (1, 2, 3, ...) of a
 * workload is a pure function of (seed, id), so whoever checks a recovered
 * index can recompute what any prefix of the workload leaves behind without
 * being told what the writer did: only how far it got (the last id issued)
 * and which ids it acknowledged.
 *
 * Every value names the operation that wrote it, so no two operations put
 * the same value and the state after `n` operations is a fingerprint of n
 * (up to deletes of keys that were already absent).
 */

export type WorkloadOperation =
  | { readonly id: number; readonly kind: 'set'; readonly key: string; readonly value: string }
  | { readonly id: number; readonly kind: 'delete'; readonly key: string }
  | { readonly id: number; readonly kind: 'mset'; readonly pairs: ReadonlyArray<readonly [string, string]> }
  /** `index.batch([...])`: puts and deletes in one record (a key at most once, so its effect is plain). */
  | { readonly id: number; readonly kind: 'batch'; readonly operations: ReadonlyArray<readonly [string, string | undefined]> }
  /** `index.clear({ prefix })`: every live key under the prefix, deleted in one record. */
  | { readonly id: number; readonly kind: 'clear'; readonly prefix: string };

/** Few enough keys that operations overwrite and delete each other; some keys are multi-byte UTF-8. */
const KEY_COUNT = 48;

function keyName(index: number): string {
  return index % 7 === 3 ? `k${String(index).padStart(3, '0')}-ü€` : `k${String(index).padStart(3, '0')}`;
}

const ALL_KEYS: readonly string[] = Array.from({ length: KEY_COUNT }, (_, i) => keyName(i));

export function operationOf(seed: number, id: number): WorkloadOperation {
  const random = new SeededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(id, 0x85ebca77)) >>> 0);
  const roll = random.next();
  if (roll < 0.25) return { id, kind: 'mset', pairs: distinctKeys(random).map((key) => [key, valueOf(seed, id, key, random)] as const) };
  if (roll < 0.33) {
    const operations = distinctKeys(random).map((key) => [key, random.chance(0.4) ? undefined : valueOf(seed, id, key, random)] as const);
    return { id, kind: 'batch', operations };
  }
  // k000..k009, k010..k019, ...: a tenth to a fifth of the keys at once.
  if (roll < 0.36) return { id, kind: 'clear', prefix: `k0${random.intBetween(0, 4)}` };
  const key = ALL_KEYS[random.intBetween(0, KEY_COUNT - 1)]!;
  if (roll < 0.4) return { id, kind: 'delete', key };
  return { id, kind: 'set', key, value: valueOf(seed, id, key, random) };
}

function distinctKeys(random: SeededRandom): string[] {
  const keys = new Set<string>();
  const size = random.intBetween(2, 6);
  while (keys.size < size) keys.add(ALL_KEYS[random.intBetween(0, KEY_COUNT - 1)]!);
  return [...keys];
}

/** Names the operation, its workload and its key, so a wrong value says which write it came from. */
function valueOf(seed: number, id: number, key: string, random: SeededRandom): string {
  return `${id}:${seed.toString(36)}:${key}:${'v'.repeat(random.intBetween(0, 160))}`;
}

/** What operation `op` does to each key it touches: a value, or undefined for a delete. */
export function effectsOf(op: WorkloadOperation): Array<readonly [string, string | undefined]> {
  switch (op.kind) {
    case 'set':
      return [[op.key, op.value]];
    case 'delete':
      return [[op.key, undefined]];
    case 'mset':
      return op.pairs.map(([key, value]) => [key, value] as const);
    case 'batch':
      return [...op.operations];
    case 'clear':
      return ALL_KEYS.filter((key) => key.startsWith(op.prefix)).map((key) => [key, undefined] as const);
  }
}

/**
 * The writes `op` puts in the log, one sequence number each, given the live
 * keys before it: a clear deletes only the keys it finds, in key order (none:
 * it writes nothing); every other operation writes each of its effects.
 */
export function loggedWritesOf(op: WorkloadOperation, live: ReadonlyMap<string, string>): Array<readonly [string, string | undefined]> {
  if (op.kind !== 'clear') return effectsOf(op);
  return [...live.keys()]
    .filter((key) => key.startsWith(op.prefix))
    .sort()
    .map((key) => [key, undefined] as const);
}

/** Issues `op` on `index`; the promise resolves when the index acknowledges it. */
function issue(index: Index, op: WorkloadOperation): Promise<void> {
  switch (op.kind) {
    case 'set':
      return index.set(op.key, op.value);
    case 'delete':
      return index.delete(op.key);
    case 'mset':
      return index.mset(op.pairs);
    case 'batch':
      return index.batch(op.operations.map(([key, value]) => (value === undefined ? { type: 'del', key } : { type: 'put', key, value })));
    case 'clear':
      return index.clear({ prefix: op.prefix });
  }
}

/**
 * How the writer paces the workload, decided per burst from (seed, first
 * id) so runs are replayable: a burst of 1..24 operations issued without
 * waiting (many writes in flight in one group commit), then either all of
 * them awaited or only the first, so the next burst overlaps this one's tail.
 */
interface Burst {
  readonly size: number;
  readonly awaitAll: boolean;
}

function burstAt(seed: number, firstId: number): Burst {
  const random = new SeededRandom((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2f) + firstId) >>> 0);
  const size = random.chance(0.3) ? 1 : random.intBetween(2, 24);
  return { size, awaitAll: random.chance(0.6) };
}

export interface WorkloadListener {
  /** Operations up to `lastId` are about to be issued. */
  issuing(lastId: number): void;
  acknowledged(id: number): void;
  failed(id: number, error: unknown): void;
}

/**
 * Issues operations `firstId`, `firstId + 1`, ... on `index` in bursts
 * until `keepGoing()` is false (asked before each burst), reporting each
 * operation's fate to `listener`. No promise is left without a handler.
 */
export async function driveWorkload(
  index: Index,
  seed: number,
  firstId: number,
  listener: WorkloadListener,
  keepGoing: () => boolean = () => true,
): Promise<void> {
  for (let id = firstId; keepGoing();) {
    const burst = burstAt(seed, id);
    const last = id + burst.size - 1;
    listener.issuing(last);
    const settled: Array<Promise<void>> = [];
    for (; id <= last; id++) {
      const op = operationOf(seed, id);
      settled.push(
        issue(index, op).then(
          () => listener.acknowledged(op.id),
          (error: unknown) => listener.failed(op.id, error),
        ),
      );
    }
    await (burst.awaitAll ? Promise.all(settled) : settled[0]);
  }
}

/** The state read back from an index: every key of the workload that is present, with its value. */
export type ObservedState = ReadonlyMap<string, string>;

export function readState(index: Index): Map<string, string> {
  const state = new Map<string, string>();
  for (const [key, value] of index.range()) {
    if (typeof key !== 'string' || typeof value !== 'string') throw new TypeError(`the workload writes strings only, read ${String(key)}`);
    state.set(key, value);
  }
  for (const key of ALL_KEYS) {
    const value = index.get(key);
    if (value !== state.get(key)) {
      throw new Error(`get(${key}) = ${String(value)} but range() gave ${String(state.get(key))}: the read paths disagree`);
    }
  }
  return state;
}

export interface PrefixExpectation {
  readonly seed: number;
  /** Highest id whose operation was started (its call made); the state may not go past it. */
  readonly lastIssued: number;
  /** The state must include at least operations 1..mustInclude (the highest id acknowledged, or recovered before). */
  readonly mustInclude: number;
}

/**
 * Finds the n with `state` == operations 1..n applied to an empty index,
 * with mustInclude <= n <= lastIssued, and returns the largest such n.
 * Throws, with what differs, when there is none: then an acknowledged write
 * is lost, or the state is not a prefix of what was issued (a write applied
 * out of order, a torn mset, a value nobody wrote).
 */
export function recoveredPrefix(state: ObservedState, expected: PrefixExpectation): number {
  for (const key of state.keys()) {
    if (!ALL_KEYS.includes(key)) throw new Error(`key ${JSON.stringify(key)} was never written`);
  }
  const model = new Map<string, string>();
  let mismatches = state.size;
  let best: { n: number; mismatches: number } = { n: 0, mismatches };
  const matches: number[] = mismatches === 0 ? [0] : [];
  for (let id = 1; id <= expected.lastIssued; id++) {
    for (const [key, value] of effectsOf(operationOf(expected.seed, id))) {
      const before = model.get(key) === state.get(key);
      if (value === undefined) model.delete(key);
      else model.set(key, value);
      const after = model.get(key) === state.get(key);
      mismatches += Number(before) - Number(after);
    }
    if (mismatches === 0) matches.push(id);
    if (id >= expected.mustInclude && mismatches < best.mismatches) best = { n: id, mismatches };
  }
  const n = matches.at(-1);
  if (n !== undefined && n >= expected.mustInclude) return n;
  throw new Error(describeMismatch(state, expected, matches, best.n));
}

function describeMismatch(state: ObservedState, expected: PrefixExpectation, matches: readonly number[], closest: number): string {
  const model = new Map<string, string>();
  for (let id = 1; id <= closest; id++) {
    for (const [key, value] of effectsOf(operationOf(expected.seed, id))) {
      if (value === undefined) model.delete(key);
      else model.set(key, value);
    }
  }
  const differences = ALL_KEYS.filter((key) => model.get(key) !== state.get(key))
    .slice(0, 8)
    .map((key) => `${key}: read ${short(state.get(key))}, ops 1..${closest} give ${short(model.get(key))}`);
  const why =
    matches.length > 0
      ? `the state equals ops 1..${matches.at(-1)!}, which loses acknowledged ops up to ${expected.mustInclude}`
      : `the state is no prefix of ops 1..${expected.lastIssued}`;
  return `${why} (seed ${expected.seed}); closest prefix at or past ${expected.mustInclude} is ${closest}: ${differences.join('; ')}`;
}

function short(value: string | undefined): string {
  return value === undefined ? 'absent' : JSON.stringify(value.slice(0, 32));
}
