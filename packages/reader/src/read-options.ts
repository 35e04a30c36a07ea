import { ValidationError } from '@silt/fs';
import { booleanOption, checkOneBoundEachSide, describeType, limitOption, nearOptions } from '@silt/segments/internal';
import { encodeBound, encodeKey } from './key-codec.js';
import type { ByteRange, NearOptions } from './merged-view.js';

/** Bounds of an ordered read: the same options a segment takes (`prefix` intersects the others). */
export type { RangeOptions } from '@silt/segments';
/** Keys sharing the longest prefix: `minPrefix` (default 0), `limit` (default 10), `greedy` (default false). */
export type { NearOptions } from './merged-view.js';

export interface FuzzyOptions {
  /** Leading characters that must match exactly; a larger prefix scans less. Default 2, as keyvi. */
  readonly minPrefix?: number;
  /** At most this many results. Default unlimited. */
  readonly limit?: number;
}

const RANGE_KEYS = ['gte', 'gt', 'lte', 'lt', 'prefix', 'reverse', 'limit'];
const FUZZY_KEYS = ['minPrefix', 'limit'];

function optionsObject(options: unknown, known: readonly string[], what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`${what} options must be an object, got ${describeType(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) throw new ValidationError(`unknown ${what} option '${name}'; known: ${known.join(', ')}`);
  }
  return given;
}

function minPrefixOption(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`option minPrefix must be a whole number 0 or more, got ${String(value)}`);
  }
  return value;
}

export function toByteRange(options: unknown): ByteRange {
  const given = optionsObject(options, RANGE_KEYS, 'range');
  checkOneBoundEachSide(given);
  return {
    gte: encodeBound(given.gte, 'gte'),
    gt: encodeBound(given.gt, 'gt'),
    lte: encodeBound(given.lte, 'lte'),
    lt: encodeBound(given.lt, 'lt'),
    prefix: encodeBound(given.prefix, 'prefix'),
    reverse: booleanOption(given.reverse, 'reverse'),
    limit: limitOption(given.limit),
  };
}

/** The segments' checks of near options, with the index's default of 10 results. */
export function toNearOptions(options: unknown): Required<NearOptions> {
  const resolved = nearOptions(options);
  const limitGiven = typeof options === 'object' && options !== null && (options as NearOptions).limit !== undefined;
  return limitGiven ? resolved : { ...resolved, limit: 10 };
}

export function toFuzzyOptions(options: unknown): Required<FuzzyOptions> {
  const given = optionsObject(options, FUZZY_KEYS, 'fuzzy');
  return { minPrefix: minPrefixOption(given.minPrefix, 2), limit: limitOption(given.limit) };
}

export function fuzzyQuery(key: unknown, maxEdits: unknown): { query: string; maxEdits: number } {
  const bytes = encodeKey(key);
  if (typeof maxEdits !== 'number' || !Number.isInteger(maxEdits) || maxEdits < 0 || maxEdits > 16) {
    throw new ValidationError(`fuzzy maxEdits must be a whole number from 0 to 16, got ${String(maxEdits)}`);
  }
  return { query: typeof key === 'string' ? key : new TextDecoder().decode(bytes), maxEdits };
}
