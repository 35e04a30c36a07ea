import { ValidationError } from '@silt/fs';
import { MAX_KEY_BYTES } from './format.js';
import { describeType, prefixSuccessor } from './key-bytes.js';
import { booleanOption, limitOption, type Bound } from './range-options.js';

/** Options of keyvi's GetNear, for a segment (`SegmentReader.near`) and an index (`near` of Index and ReadOnlyIndex) alike. */
export interface NearOptions {
  /** Keys must share at least this many leading bytes with the query. Default 0. */
  readonly minPrefix?: number;
  /** At most this many results. Default unlimited on a segment, 10 on an index (`INDEX_NEAR_LIMIT`). */
  readonly limit?: number;
  /** Also return keys sharing shorter prefixes, longest first, down to `minPrefix`. Default false. */
  readonly greedy?: boolean;
}

/** Near options resolved: what `nearOptions` returns and the near reads below it take. */
export type ResolvedNearOptions = Required<NearOptions>;

/** An index's default `limit` for near: a query answers with a screenful, not with every key of a shared prefix. */
export const INDEX_NEAR_LIMIT = 10;

const KNOWN = new Set(['minPrefix', 'limit', 'greedy']);

/**
 * Resolves near options given by a caller, or throws a ValidationError
 * naming what is wrong; `defaultLimit` is the caller's default (unlimited
 * for a segment, INDEX_NEAR_LIMIT for an index).
 */
export function nearOptions(options: unknown, defaultLimit = Infinity): ResolvedNearOptions {
  if (options === undefined) return { minPrefix: 0, limit: defaultLimit, greedy: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`near options must be an object, got ${describeType(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name) && given[name] !== undefined)
      throw new ValidationError(`unknown near option '${name}'; known: ${[...KNOWN].join(', ')}`);
  }
  const minPrefix = given.minPrefix ?? 0;
  if (typeof minPrefix !== 'number' || !Number.isInteger(minPrefix) || minPrefix < 0 || minPrefix > MAX_KEY_BYTES) {
    throw new ValidationError(`near option minPrefix must be a whole number of bytes from 0 to ${MAX_KEY_BYTES}, got ${String(minPrefix)}`);
  }
  return {
    minPrefix,
    limit: given.limit === undefined ? defaultLimit : limitOption(given.limit),
    greedy: booleanOption(given.greedy, 'greedy'),
  };
}

/**
 * The key ranges of a near query, in the order they are reported: first
 * every key starting with `query[0, longest)`, then (greedy) for each shorter
 * length down to `shortest`, the keys starting with `query[0, length)` but not
 * `query[0, length + 1)`, which lie on either side of the longer group.
 */
export function* nearGroups(query: Uint8Array, longest: number, shortest: number): Generator<{ lower: Bound; upper: Bound | undefined }> {
  yield prefixRange(query.subarray(0, longest));
  for (let length = longest - 1; length >= shortest; length--) {
    const prefix = query.subarray(0, length);
    const longer = query.subarray(0, length + 1);
    const outer = prefixRange(prefix);
    yield { lower: outer.lower, upper: { key: longer, inclusive: false } };
    const afterLonger = prefixSuccessor(longer);
    if (afterLonger !== undefined) yield { lower: { key: afterLonger, inclusive: true }, upper: outer.upper };
  }
}

function prefixRange(prefix: Uint8Array): { lower: Bound; upper: Bound | undefined } {
  const successor = prefixSuccessor(prefix);
  return { lower: { key: prefix, inclusive: true }, upper: successor === undefined ? undefined : { key: successor, inclusive: false } };
}
