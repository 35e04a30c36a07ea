import { ValidationError } from '@silt/fs';
import { describeType, encodeKey, INDEX_NEAR_LIMIT, limitOption, nearOptions, toScanRange, type ScanRange } from '@silt/segments/internal';
import type { ResolvedNearOptions } from '@silt/segments';

/**
 * The options of an index's ordered reads, resolved once where a caller
 * hands them in (`KeyValueReads`): the merged view and every source below
 * take them resolved. Range and near options, and their checks, are
 * @silt/segments' own (a segment reads with the same ones); fuzzy is the
 * index's alone.
 */

/** Bounds of an ordered read: the same options a segment takes (`prefix` intersects the others). */
export type { RangeOptions } from '@silt/segments';
/** Keys sharing the longest prefix: `minPrefix` (default 0), `limit` (default 10 on an index), `greedy` (default false). */
export type { NearOptions } from '@silt/segments';

export interface FuzzyOptions {
  /** Leading characters that must match exactly; a larger prefix scans less. Default 2, as keyvi. */
  readonly minPrefix?: number;
  /** At most this many results. Default unlimited. */
  readonly limit?: number;
}

/** Fuzzy options resolved: what `toFuzzyOptions` returns and `MergedView.fuzzy` takes. */
export type ResolvedFuzzyOptions = Required<FuzzyOptions>;

const FUZZY_KEYS = ['minPrefix', 'limit'];

/** An index's range options resolved: string bounds must be well-formed UTF-16, as keys must. */
export function toIndexScanRange(options: unknown): ScanRange {
  return toScanRange(options, 'well-formed');
}

/** An index's near options resolved, with its default of INDEX_NEAR_LIMIT results. */
export function toIndexNearOptions(options: unknown): ResolvedNearOptions {
  return nearOptions(options, INDEX_NEAR_LIMIT);
}

export function toFuzzyOptions(options: unknown): ResolvedFuzzyOptions {
  const given = fuzzyOptionsObject(options);
  return { minPrefix: minPrefixOption(given.minPrefix, 2), limit: limitOption(given.limit) };
}

export function fuzzyQuery(key: unknown, maxEdits: unknown): { query: string; maxEdits: number } {
  const bytes = encodeKey(key);
  if (typeof maxEdits !== 'number' || !Number.isInteger(maxEdits) || maxEdits < 0 || maxEdits > 16) {
    throw new ValidationError(`fuzzy maxEdits must be a whole number from 0 to 16, got ${String(maxEdits)}`);
  }
  return { query: typeof key === 'string' ? key : new TextDecoder().decode(bytes), maxEdits };
}

function fuzzyOptionsObject(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`fuzzy options must be an object, got ${describeType(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!FUZZY_KEYS.includes(name)) throw new ValidationError(`unknown fuzzy option '${name}'; known: ${FUZZY_KEYS.join(', ')}`);
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
