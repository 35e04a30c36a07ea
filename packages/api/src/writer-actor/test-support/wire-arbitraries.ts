import fc from 'fast-check';
import type { WalEntryInput } from '@silt/wal';
import type { ClearRangeInput, WriteRequestInput } from '../writes-frame-builder.js';
import type { WireClearRange, WireEntry, WriteRequest } from '../write-requests.js';
import { CLEAR_BOUNDS } from '../write-requests.js';

/*
 * Arbitraries for the writer actor's wire tests, and the plain form both a
 * request as given and a request as decoded reduce to, so `deepEqual`
 * compares them by content.
 */

export const SOAK = process.env.SOAK === '1';
export const RUNS = SOAK ? 5000 : 300;

/** One-, two-, three- and four-byte characters, and a lone surrogate (written as U+FFFD, as Buffer writes it). */
export const text = (minLength = 0): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '\ud800', '\u0000'), minLength, maxLength: 24 });
export const bytes = (minLength = 0): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength, maxLength: 64 });
const data = (minLength = 0): fc.Arbitrary<Uint8Array | string> => fc.oneof(bytes(minLength), text(minLength));

const utf8Length = (value: Uint8Array | string): number => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length);

/** Entries as the index gives them: strings or bytes, sometimes with their lengths measured already. */
export const entryInput: fc.Arbitrary<WalEntryInput> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), key: data(1) }),
  fc.record({ kind: fc.constant('put' as const), key: data(1), value: data() }),
  fc.record({ kind: fc.constant('put' as const), key: data(1), value: data(), valueIsText: fc.boolean() }),
  fc
    .record({ key: data(1), value: data() })
    .map(({ key, value }) => ({ kind: 'put' as const, key, value, keyBytes: utf8Length(key), valueBytes: utf8Length(value) })),
  data(1).map((key) => ({ kind: 'delete' as const, key, keyBytes: utf8Length(key) })),
);

export const clearRangeInput: fc.Arbitrary<ClearRangeInput> = fc.record(
  {
    gt: data(),
    gte: data(),
    lt: data(),
    lte: data(),
    prefix: data(),
    limit: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constant(Infinity)),
    reverse: fc.boolean(),
  },
  { requiredKeys: [] },
);

export const requestId = fc.integer({ min: 0, max: 0xffff_ffff });

export const writeRequestInput: fc.Arbitrary<WriteRequestInput> = fc.oneof(
  fc.record({ requestId, kind: fc.constant('batch' as const), entries: fc.array(entryInput, { minLength: 1, maxLength: 8 }) }),
  fc.record({ requestId, kind: fc.constant('clear' as const), range: clearRangeInput }),
);

export const writeRequestInputs = fc.array(writeRequestInput, { minLength: 1, maxLength: 12 });

/** An entry or request reduced to numbers, strings and arrays. */
export type Plain = unknown;

const plainBytes = (value: Uint8Array | string): number[] => [...(typeof value === 'string' ? Buffer.from(value, 'utf8') : value)];

function plainEntryInput(entry: WalEntryInput): Plain {
  if (entry.kind === 'delete') return { kind: 'delete', key: plainBytes(entry.key) };
  const valueIsText = typeof entry.value === 'string' || entry.valueIsText === true;
  return { kind: 'put', key: plainBytes(entry.key), value: plainBytes(entry.value), valueIsText };
}

function plainWireEntry(entry: WireEntry): Plain {
  if (entry.kind === 'delete') return { kind: 'delete', key: plainBytes(entry.key) };
  return { kind: 'put', key: plainBytes(entry.key), value: plainBytes(entry.value), valueIsText: entry.valueIsText };
}

/** A range as the wire carries it: bounds as bytes, no limit for Infinity, reverse only when true. */
function plainRange(range: ClearRangeInput | WireClearRange): Plain {
  const plain: Record<string, unknown> = {};
  for (const name of CLEAR_BOUNDS) {
    const bound = range[name];
    if (bound !== undefined) plain[name] = plainBytes(bound);
  }
  if (range.limit !== undefined && range.limit !== Infinity) plain.limit = range.limit;
  if (range.reverse === true) plain.reverse = true;
  return plain;
}

export function plainRequestInput(request: WriteRequestInput): Plain {
  if (request.kind === 'batch') return { requestId: request.requestId, batch: request.entries.map(plainEntryInput) };
  return { requestId: request.requestId, clear: plainRange(request.range) };
}

export function plainRequest(request: WriteRequest): Plain {
  if (request.kind === 'batch') return { requestId: request.requestId, batch: request.entries.map(plainWireEntry) };
  return { requestId: request.requestId, clear: plainRange(request.range) };
}

/** Cuts `bytes` at the given positions (taken modulo its length, sorted), for feeding a reader. */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [];
  const points = [...new Set(cuts.map((cut) => cut % bytes.length))].filter((cut) => cut > 0).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}
