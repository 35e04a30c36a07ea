import type { SourceRange } from './entry-source.js';
import { compareBytes, prefixSuccessor } from './key-bytes.js';

/** At most one lower and one upper bound on key bytes. */
export interface KeyBounds {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
}

function tighterLower(a: KeyBounds, key: Uint8Array, exclusive: boolean): KeyBounds {
  const current = a.gt ?? a.gte;
  if (current !== undefined) {
    const order = compareBytes(key, current);
    if (order < 0 || (order === 0 && (a.gt !== undefined || !exclusive))) return a;
  }
  const { gt: _gt, gte: _gte, ...rest } = a;
  return exclusive ? { ...rest, gt: key } : { ...rest, gte: key };
}

function tighterUpper(a: KeyBounds, key: Uint8Array, exclusive: boolean): KeyBounds {
  const current = a.lt ?? a.lte;
  if (current !== undefined) {
    const order = compareBytes(key, current);
    if (order > 0 || (order === 0 && (a.lt !== undefined || !exclusive))) return a;
  }
  const { lt: _lt, lte: _lte, ...rest } = a;
  return exclusive ? { ...rest, lt: key } : { ...rest, lte: key };
}

/** Folds `prefix` and the four bounds into at most one lower and one upper bound. */
export function boundsOf(range: SourceRange): KeyBounds {
  let bounds: KeyBounds = {};
  if (range.gte !== undefined) bounds = tighterLower(bounds, range.gte, false);
  if (range.gt !== undefined) bounds = tighterLower(bounds, range.gt, true);
  if (range.lte !== undefined) bounds = tighterUpper(bounds, range.lte, false);
  if (range.lt !== undefined) bounds = tighterUpper(bounds, range.lt, true);
  if (range.prefix !== undefined && range.prefix.length > 0) {
    bounds = tighterLower(bounds, range.prefix, false);
    const successor = prefixSuccessor(range.prefix);
    if (successor !== undefined) bounds = tighterUpper(bounds, successor, true);
  }
  return bounds;
}

export function isAboveLower(key: Uint8Array, bounds: KeyBounds): boolean {
  if (bounds.gte !== undefined && compareBytes(key, bounds.gte) < 0) return false;
  if (bounds.gt !== undefined && compareBytes(key, bounds.gt) <= 0) return false;
  return true;
}

export function isBelowUpper(key: Uint8Array, bounds: KeyBounds): boolean {
  if (bounds.lte !== undefined && compareBytes(key, bounds.lte) > 0) return false;
  if (bounds.lt !== undefined && compareBytes(key, bounds.lt) >= 0) return false;
  return true;
}

export function isWithin(key: Uint8Array, bounds: KeyBounds): boolean {
  return isAboveLower(key, bounds) && isBelowUpper(key, bounds);
}
