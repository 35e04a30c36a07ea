import { ValidationError } from '@silt/fs';
import { compareBytes, describeType, keyToBytes, prefixSuccessor, type Key, type StringKeyRule } from './key-bytes.js';

/** Bounds for ordered reads; all optional. `prefix` intersects with the others. */
export interface RangeOptions {
  readonly gte?: Key;
  readonly gt?: Key;
  readonly lte?: Key;
  readonly lt?: Key;
  readonly prefix?: Key;
  /** Descending key order. Default false. */
  readonly reverse?: boolean;
  /** At most this many results. Default unlimited. */
  readonly limit?: number;
}

export interface Bound {
  readonly key: Uint8Array;
  readonly inclusive: boolean;
}

/**
 * Range options resolved: byte bounds (already intersected with the prefix),
 * direction, limit. The options are resolved once, where a caller hands them
 * in (`toScanRange`), and everything below takes this: a segment's
 * `entriesIn`, the writer's memtables, the merged read path.
 */
export interface ScanRange {
  readonly lower: Bound | undefined;
  readonly upper: Bound | undefined;
  readonly reverse: boolean;
  readonly limit: number;
}

/** Every key, ascending, no limit. */
export const FULL_SCAN: ScanRange = { lower: undefined, upper: undefined, reverse: false, limit: Infinity };

const KNOWN = new Set(['gte', 'gt', 'lte', 'lt', 'prefix', 'reverse', 'limit']);

/**
 * Resolves range options given by a caller, or throws a ValidationError
 * naming what is wrong. An option set to undefined counts as not given.
 * `strings` is the rule for string bounds: a segment's (`'utf8'`, the
 * default) or an index's (`'well-formed'`).
 */
export function toScanRange(options: unknown, strings: StringKeyRule = 'utf8'): ScanRange {
  if (options === undefined) return FULL_SCAN;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`range options must be an object, got ${describeType(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name) && given[name] !== undefined)
      throw new ValidationError(`unknown range option '${name}'; known: ${[...KNOWN].join(', ')}`);
  }
  checkOneBoundEachSide(given);
  let lower = boundOf(given, 'gte', 'gt', strings);
  let upper = boundOf(given, 'lte', 'lt', strings);
  if (given.prefix !== undefined) {
    const prefix = keyToBytes(given.prefix, rangeOption('prefix'), strings);
    lower = tighterLower(lower, { key: prefix, inclusive: true });
    const successor = prefixSuccessor(prefix);
    if (successor !== undefined) upper = tighterUpper(upper, { key: successor, inclusive: false });
  }
  return { lower, upper, reverse: booleanOption(given.reverse, 'reverse'), limit: limitOption(given.limit) };
}

/** The keys that start with `prefix`, ascending, no limit. */
export function prefixScanRange(prefix: Uint8Array): ScanRange {
  const successor = prefixSuccessor(prefix);
  return {
    lower: { key: prefix, inclusive: true },
    upper: successor === undefined ? undefined : { key: successor, inclusive: false },
    reverse: false,
    limit: Infinity,
  };
}

/** A range has at most one lower bound (gte or gt) and one upper bound (lte or lt). */
function checkOneBoundEachSide(given: Record<string, unknown>): void {
  if (given.gte !== undefined && given.gt !== undefined) throw new ValidationError('give at most one of the range options gte and gt');
  if (given.lte !== undefined && given.lt !== undefined) throw new ValidationError('give at most one of the range options lte and lt');
}

export function limitOption(limit: unknown): number {
  if (limit === undefined) return Infinity;
  if (typeof limit !== 'number' || !(Number.isSafeInteger(limit) || limit === Infinity) || limit < 0) {
    throw new ValidationError(`option limit must be a non-negative whole number, got ${String(limit)}`);
  }
  return limit;
}

export function booleanOption(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ValidationError(`option ${name} must be a boolean, got ${describeType(value)}`);
  return value;
}

function boundOf(given: Record<string, unknown>, inclusiveName: string, exclusiveName: string, strings: StringKeyRule): Bound | undefined {
  if (given[inclusiveName] !== undefined)
    return { key: keyToBytes(given[inclusiveName], rangeOption(inclusiveName), strings), inclusive: true };
  if (given[exclusiveName] !== undefined)
    return { key: keyToBytes(given[exclusiveName], rangeOption(exclusiveName), strings), inclusive: false };
  return undefined;
}

/** How errors name a bound: "range option 'gte'". */
function rangeOption(name: string): string {
  return `range option '${name}'`;
}

function tighterLower(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = compareBytes(a.key, 0, a.key.length, b.key, 0, b.key.length);
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}

function tighterUpper(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = compareBytes(a.key, 0, a.key.length, b.key, 0, b.key.length);
  if (order !== 0) return order < 0 ? a : b;
  return a.inclusive ? b : a;
}
