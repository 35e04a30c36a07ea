import { z } from 'zod';

/**
 * What the fleet bench (fleet-bench.ts) and its member processes
 * (fleet-bench-child.ts) say to each other: the job a member is forked
 * with (argv[2], JSON), the parent's commands and the member's reports,
 * over the IPC channel.
 */

/** What a member does once the parent says `go`. */
const workSchema = z.discriminatedUnion('kind', [
  /** Nothing: an idle writer serving clients, or idle clients beside a writer. */
  z.strictObject({ kind: z.literal('idle') }),
  /**
   * `writes` sets in all, from `loops` loops that each await one set before the next; with
   * `readBack`, each loop also gets the key it just set, and checks the value, before its next set.
   */
  z.strictObject({
    kind: z.literal('sets'),
    loops: z.number().int().positive(),
    writes: z.number().int().positive(),
    readBack: z.boolean(),
  }),
  /** One awaited set after another: `warmUpMs` of them untimed, then `durationMs` more, each timed. */
  z.strictObject({ kind: z.literal('latency'), warmUpMs: z.number().nonnegative(), durationMs: z.number().positive() }),
  /** `loops` awaited-set loops until the parent says `stop`, each pausing `pauseMs` after each acknowledgement, whose time is kept. */
  z.strictObject({ kind: z.literal('stream'), loops: z.number().int().positive(), pauseMs: z.number().nonnegative() }),
]);
export type MemberWork = z.infer<typeof workSchema>;

export const memberJobSchema = z.strictObject({
  /** silt `Index.open` with the default role ('auto'), or lmdb-js `open` (every process may write). */
  engine: z.enum(['silt', 'lmdb']),
  /** The index directory, or lmdb's database file. */
  path: z.string().min(1),
  /** silt's durability (a client's writes take the writer's). */
  durability: z.enum(['fsync', 'write', 'none']),
  /** Keys of this member are `memberKey(slot, 0..)`: no two members write the same key. */
  slot: z.number().int().nonnegative(),
  work: workSchema,
});
export type MemberJob = z.infer<typeof memberJobSchema>;

export const toMemberSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('go') }),
  /** Ends a `stream`. */
  z.strictObject({ type: z.literal('stop') }),
  z.strictObject({ type: z.literal('close') }),
]);
export type ToMember = z.infer<typeof toMemberSchema>;

export type MemberRole = 'writer' | 'client' | 'reader' | 'lmdb';

export type WorkResult =
  | { readonly kind: 'idle' }
  /** monotonicMs() before the first set and after the last acknowledgement. */
  | { readonly kind: 'sets'; readonly writes: number; readonly startedAt: number; readonly endedAt: number }
  | { readonly kind: 'latency'; readonly micros: number[] }
  /** Its acknowledgements went in `acks` reports; writes whose outcome a failover left unknown are counted apart. */
  | {
      readonly kind: 'stream';
      readonly acked: number;
      readonly uncertain: number;
      /** The message of the first WriterChangedError, if any. */
      readonly uncertainWhy: string | undefined;
      readonly writerChanges: number;
    };

export type FromMember =
  | { readonly type: 'ready'; readonly role: MemberRole; readonly pid: number }
  | { readonly type: 'role'; readonly role: MemberRole }
  /** A `stream` member's acknowledgement times (monotonicMs) since its last report, sent at most every ACK_REPORT_MS and before `done`. */
  | { readonly type: 'acks'; readonly at: number[] }
  /** `clients`: the clients connected to this member when it finished, if it is silt's writer. */
  | { readonly type: 'done'; readonly result: WorkResult; readonly clients: number | undefined }
  | { readonly type: 'failed'; readonly message: string }
  /** `groupCommits`: the log's group writes while this member was silt's writer (its stats just before closing). */
  | { readonly type: 'closed'; readonly groupCommits: number | undefined };

export const ACK_REPORT_MS = 20;

/** Writes a member makes stay under this, so slots never share a key. */
const KEYS_PER_SLOT = 10_000_000;

/** 16-byte keys (for the first 26 slots), spread over the key space by a multiplicative hash, in the member's own range. */
export function memberKey(slot: number, i: number): string {
  const n = slot * KEYS_PER_SLOT + i;
  return `k${(Math.imul(n, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')}${n.toString(16).padStart(7, '0')}`;
}

export const VALUE_BYTES = 100;

export function memberValue(i: number): string {
  return `${i}:`.padEnd(VALUE_BYTES, 'v');
}
