import { z } from 'zod';

/*
 * What the many-writers process test and its member processes say to each
 * other over the IPC channel (`fork`). A member writes keys of its own,
 * named for its slot and incarnation, so every key is written once and an
 * acknowledged value can be checked exactly.
 */

export const memberConfigSchema = z.strictObject({
  directory: z.string(),
  slot: z.number().int().nonnegative(),
  incarnation: z.number().int().nonnegative(),
  /** Writes each member keeps in flight at once. */
  concurrency: z.number().int().positive(),
});
export type MemberConfig = z.infer<typeof memberConfigSchema>;

/** Every tenth write of a member is a batch of this many keys: whole or absent after any kill. */
export const BATCH_KEYS = 3;

export type ToMember = { readonly type: 'stop' } | { readonly type: 'final' } | { readonly type: 'close' };

export type FromMember =
  | { readonly type: 'ready'; readonly role: string; readonly pid: number }
  | { readonly type: 'role'; readonly role: string }
  /** Writes acknowledged since the last message, as [key, value]; a batch's keys all come in one message. */
  | { readonly type: 'acked'; readonly writes: ReadonlyArray<readonly [string, string]> }
  /** A write whose outcome the member could not learn (WriterChangedError): neither lost nor checked. */
  | { readonly type: 'uncertain'; readonly keys: readonly string[] }
  /** The member did not read its own acknowledged write at once, or a write failed for another reason. */
  | { readonly type: 'violation'; readonly message: string }
  | { readonly type: 'stopped' }
  /** What the member's reads see after its final write, the final keys left out. */
  | { readonly type: 'digest'; readonly digest: string; readonly keys: number }
  | { readonly type: 'closed' };

export const FINAL_KEY_PREFIX = 'final/';

export function keyOf(slot: number, incarnation: number, write: number, part?: number): string {
  return part === undefined ? `k/${slot}/${incarnation}/${write}` : `b/${slot}/${incarnation}/${write}/${part}`;
}

/** The batch a batch key belongs to (its key without the part), or undefined for a single write's key. */
export function batchOf(key: string): string | undefined {
  return key.startsWith('b/') ? key.slice(0, key.lastIndexOf('/')) : undefined;
}
