/**
 * Key ids (`keyIdOfBytes` of @silt/segments: latin1 strings, one char per
 * byte, so string order is byte order) kept in a sorted array, for tables
 * that sort their keys lazily: the reader's tail table here, the writer's
 * memtable alike.
 */

/** The first index whose id is above `id`, or at or above it when `orEqual`. */
export function firstIdAfter(ids: readonly string[], id: string, orEqual: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orEqual ? ids[mid]! < id : ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two sorted arrays of ids as one. */
export function mergeSortedIds(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
