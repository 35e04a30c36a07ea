import { ValidationError } from '@silt/fs';
import { describe } from './describe-value.js';

/** One operation of a batch. `valueIsText` travels with the value so the index can hand back the type it was given. */
export type WalEntry =
  | { readonly kind: 'put'; readonly key: Uint8Array; readonly value: Uint8Array; readonly valueIsText?: boolean }
  | { readonly kind: 'delete'; readonly key: Uint8Array };

/**
 * One operation to append. Keys and values may be given as strings, which
 * go to the log as UTF-8 written straight into the record (no buffer of
 * their own); a string value is text, as `valueIsText` says of bytes. Read
 * back, every entry is a `WalEntry` of bytes.
 */
export type WalEntryInput =
  | {
      readonly kind: 'put';
      readonly key: Uint8Array | string;
      readonly value: Uint8Array | string;
      readonly valueIsText?: boolean;
      readonly keyBytes?: number;
      readonly valueBytes?: number;
    }
  | { readonly kind: 'delete'; readonly key: Uint8Array | string; readonly keyBytes?: number };

/*
 * `keyBytes` and `valueBytes`, when given, are the UTF-8 byte lengths of
 * the key and value, measured already by the caller (the index's writer
 * measures them to check them): the log then does not measure every string
 * a second time, and the encoder checks them against what it wrote.
 */

/**
 * One atomic batch as it comes back from replay. Its entries carry the
 * sequence numbers `firstSeq`, `firstSeq + 1`, ... in order.
 */
export interface WalRecord {
  readonly firstSeq: number;
  readonly entries: readonly WalEntry[];
}

/**
 * One operation as positions in a log file's bytes, for readers of many
 * records (the flush build) that would otherwise make two views and an
 * object per entry. `put-text` is a put whose value was given as a string.
 * The bytes belong to the log file read; copy what must outlive it.
 */
export type LogEntryVisitor = (
  kind: 'put' | 'put-text' | 'delete',
  bytes: Uint8Array,
  keyStart: number,
  keyLength: number,
  valueStart: number,
  valueLength: number,
) => void;

/** A record read back (`readLogRange`, `WriteAheadLog.replay`): its entries as objects, or walked in place. */
export interface LogRangeRecord extends WalRecord {
  readonly lastSeq: number;
  visit(visitor: LogEntryVisitor): void;
}

/**
 * Checks a batch before anything is encoded, so bad input is refused with a
 * message naming the entry and nothing reaches the log.
 */
export function validateEntries(entries: unknown): asserts entries is readonly WalEntryInput[] {
  if (!Array.isArray(entries)) throw new ValidationError(`append takes an array of entries, got ${describe(entries)}`);
  if (entries.length === 0) throw new ValidationError('append takes at least one entry; an empty batch has no sequence number');
  for (let i = 0; i < entries.length; i++) validateEntry(entries[i], i);
}

function validateEntry(entry: unknown, index: number): void {
  if (typeof entry !== 'object' || entry === null) {
    throw new ValidationError(`entry ${index} must be an object { kind, key, value? }, got ${describe(entry)}`);
  }
  const { kind, key, value, valueIsText } = entry as Record<string, unknown>;
  if (kind !== 'put' && kind !== 'delete') {
    throw new ValidationError(`entry ${index} has kind ${describe(kind)}; expected 'put' or 'delete'`);
  }
  if (!isBytesOrString(key)) throw new ValidationError(`entry ${index}: key must be a Uint8Array or a string, got ${describe(key)}`);
  if (kind === 'delete') return;
  if (!isBytesOrString(value)) throw new ValidationError(`entry ${index}: value must be a Uint8Array or a string, got ${describe(value)}`);
  if (valueIsText !== undefined && typeof valueIsText !== 'boolean') {
    throw new ValidationError(`entry ${index}: valueIsText must be a boolean when given, got ${describe(valueIsText)}`);
  }
}

function isBytesOrString(data: unknown): data is Uint8Array | string {
  return typeof data === 'string' || data instanceof Uint8Array;
}
