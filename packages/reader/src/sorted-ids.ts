/**
 * Sorted arrays for tables that sort their keys lazily: the reader's tail
 * table (key numbers ordered by their bytes) and the writer's memtable (key
 * ids of @silt/segments' `keyIdOfBytes`: latin1 strings, one char per
 * byte, so string order is byte order).
 */

/**
 * The first index of sorted `items` whose item is above the probe, or at or
 * above it when `orEqual`; `order(item)` is the item's order against the
 * probe (negative below, 0 equal, positive above).
 */
export function firstAfterSorted<T>(items: readonly T[], order: (item: T) => number, orEqual: boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const itemOrder = order(items[mid]!);
    if (orEqual ? itemOrder < 0 : itemOrder <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two arrays, each sorted by `compare`, as one. */
export function mergeSorted<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): T[] {
  const out = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compare(a[i]!, b[j]!) < 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

const compareIds = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** The first index whose id is above `id`, or at or above it when `orEqual`. */
export function firstIdAfter(ids: readonly string[], id: string, orEqual: boolean): number {
  return firstAfterSorted(ids, (item) => compareIds(item, id), orEqual);
}

/** Two sorted arrays of ids as one. */
export function mergeSortedIds(a: readonly string[], b: readonly string[]): string[] {
  return mergeSorted(a, b, compareIds);
}
