import { z } from 'zod';
import { parseWithSchema, type ScanRange } from '@silt/segments/internal';
import { toIndexScanRange } from './read-options.js';

const keyBound = z.union([z.string(), z.instanceof(Uint8Array)], { error: 'must be a string or a Uint8Array' }).optional();

/**
 * Options of `changes()`, as a zod schema a caller can reuse. Unknown
 * options are errors. The key bounds are those of `range()` (without
 * `reverse` and `limit`, which mean nothing for a feed): `prefix`
 * intersects the others.
 */
export const changesOptionsSchema = z.strictObject({
  prefix: keyBound,
  gte: keyBound,
  gt: keyBound,
  lte: keyBound,
  lt: keyBound,
  /**
   * Resume after this sequence number: the feed yields the changes with
   * greater ones. At most the acknowledged sequence number (a larger one
   * did not come from this index's feed). Default: the acknowledged
   * sequence number when `changes()` is called, so only later writes come.
   */
  since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Aborting ends the iteration: the pending or next `next()` rejects with an AbortError. */
  signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
});

export type ChangesOptions = z.input<typeof changesOptionsSchema>;

/** `changes()` options resolved once, where the call comes in. */
export interface ResolvedChangesOptions {
  /** The key bounds, resolved as a range read resolves them. */
  readonly range: ScanRange;
  readonly since: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export function resolveChangesOptions(options: unknown): ResolvedChangesOptions {
  const { since, signal, ...bounds } = parseWithSchema(changesOptionsSchema, options ?? {}, 'changes() options');
  return { range: toIndexScanRange(bounds), since, signal };
}
