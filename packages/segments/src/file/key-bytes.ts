import { ValidationError } from '@silt/fs';
import { MAX_KEY_BYTES, SEGMENT_MAX_VALUE_BYTES } from './format.js';
import { FNV_OFFSET_BASIS, FNV_PRIME, finishHash, hashKeyBytes } from './key-hash.js';
import type { KeyEncoding } from './segment-options.js';
import { decodeUtf8 } from './value-codec.js';

/**
 * Keys: the one module that validates, encodes, orders and describes them,
 * for a segment, the reader and the writer alike. A key is a string (its
 * UTF-8 bytes) or raw bytes, 1 to MAX_KEY_BYTES of them; keys order by their
 * bytes. Two rules for strings: a segment takes any string as `Buffer.from`
 * encodes it (a lone surrogate becomes U+FFFD); an index refuses a string
 * that is not well-formed UTF-16, since 'k\uD800' and 'k\uDBFF' would be one
 * key and a value would read back changed (`StringKeyRule`).
 */

/** Keys and values are strings (stored as UTF-8) or raw bytes; keys order by their bytes. */
export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

/** How a string given as a key, bound or query becomes bytes. */
export type StringKeyRule =
  /** As `Buffer.from(key)` encodes it, a lone surrogate as U+FFFD: a segment's rule. */
  | 'utf8'
  /** Refused (ValidationError) unless well-formed UTF-16: an index's rule. */
  | 'well-formed';

/**
 * The reader's scratch for string keys: a lookup encodes its key here in
 * plain JavaScript instead of allocating a Buffer. Every UTF-16 unit takes at
 * most 3 bytes, and longer strings are rejected before encoding, so the
 * encoder needs no bounds checks.
 */
export const KEY_SCRATCH = new Uint8Array(MAX_KEY_BYTES * 3);

/**
 * UTF-8-encodes `key` into KEY_SCRATCH exactly as `Buffer.from(key)` would
 * (a lone surrogate becomes U+FFFD) and returns the byte length, or -1 when
 * the key is longer than any stored key can be. The key's hash (see
 * key-hash.ts) is computed in the same pass and left in `scratchKeyHash`.
 *
 * The string last encoded is not encoded again: a get over a stack of
 * segments asks each in turn for one key, and encoding it for each cost
 * 18 % of a get over 50 segments. Only this function writes KEY_SCRATCH
 * (nothing else may), so what it holds is that string's.
 */
export function encodeKeyToScratch(key: string): number {
  if (key === scratchKey) return scratchKeyLength;
  scratchKeyLength = encodeUncached(key);
  scratchKey = key;
  return scratchKeyLength;
}

function encodeUncached(key: string): number {
  const units = key.length;
  if (units > MAX_KEY_BYTES) return -1;
  const out = KEY_SCRATCH;
  let at = 0;
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < units; i++) {
    let code = key.charCodeAt(i);
    if (code < 0x80) {
      out[at++] = code;
      hash = Math.imul(hash ^ code, FNV_PRIME);
      continue;
    }
    const start = at;
    if (code < 0x800) {
      out[at++] = 0xc0 | (code >> 6);
      out[at++] = 0x80 | (code & 0x3f);
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < units ? key.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[at++] = 0xf0 | (code >> 18);
        out[at++] = 0x80 | ((code >> 12) & 0x3f);
        out[at++] = 0x80 | ((code >> 6) & 0x3f);
        out[at++] = 0x80 | (code & 0x3f);
      } else {
        out[at++] = 0xef;
        out[at++] = 0xbf;
        out[at++] = 0xbd;
      }
    } else {
      out[at++] = 0xe0 | (code >> 12);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
      out[at++] = 0x80 | (code & 0x3f);
    }
    for (let j = start; j < at; j++) hash = Math.imul(hash ^ out[j]!, FNV_PRIME);
  }
  scratchKeyHash = finishHash(hash);
  return at > MAX_KEY_BYTES ? -1 : at;
}

/**
 * The hash a segment files `key` under (key-hash.ts), or -1 when no segment
 * can hold it (longer than any stored key). A string is encoded into
 * KEY_SCRATCH on the way, so the segments asked next do not encode it again.
 */
export function storedKeyHash(key: Key): number {
  if (typeof key === 'string') return encodeKeyToScratch(key) < 0 ? -1 : scratchKeyHash;
  return key.length > MAX_KEY_BYTES ? -1 : hashKeyBytes(key, 0, key.length);
}

/** The hash of the key last encoded by `encodeKeyToScratch`. */
export let scratchKeyHash = 0;

let scratchKey: string | undefined;
let scratchKeyLength = -1;

/** The index's rule for a key's size in bytes, with its words: not empty, at most MAX_KEY_BYTES. */
export function checkKeyLength(length: number): void {
  if (length === 0) throw new ValidationError('a key must not be empty');
  if (length > MAX_KEY_BYTES) throw new ValidationError(`a key is ${length} bytes; the limit is ${MAX_KEY_BYTES} bytes`);
}

/** `String.prototype.isWellFormed` is ES2024 (Node 20 has it); the workspace compiles against ES2023, so it is typed here. */
type ES2024String = string & { isWellFormed(): boolean };

/**
 * The index's rule for string keys and values: well-formed UTF-16. A lone
 * surrogate has no UTF-8 form (it would be stored as U+FFFD), so 'k\uD800'
 * and 'k\uDBFF' would be one key and a value would read back changed.
 * `isWellFormed` is a builtin that answers a one-byte string at once; the
 * position is looked for only for the message. `what` names the string
 * ('a key', 'a value', "range option 'gte'").
 */
export function checkWellFormed(text: string, what: string): void {
  if (!(text as ES2024String).isWellFormed()) throw notWellFormed(text, what);
}

function notWellFormed(text: string, what: string): ValidationError {
  const at = loneSurrogateIndex(text);
  const unit = text.charCodeAt(at).toString(16).toUpperCase();
  return new ValidationError(`${what} must be well-formed UTF-16: it has a lone surrogate \\u${unit} at index ${at}`);
}

/** The UTF-16 index of the first surrogate that is not half of a high-low pair, or -1. */
function loneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1); // NaN past the end: no low half
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return i;
    i++;
  }
  return -1;
}

/**
 * The bytes of a key, bound or query given by a caller, checked for type and
 * size (it may be empty: a bound or a prefix can be). `what` names it in errors.
 */
export function keyToBytes(key: unknown, what: string, strings: StringKeyRule = 'utf8'): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    if (strings === 'well-formed') checkWellFormed(key, what);
    bytes = Buffer.from(key, 'utf8');
  } else if (key instanceof Uint8Array) bytes = key;
  else throw new ValidationError(`${what} must be a string or a Uint8Array, got ${describeType(key)}`);
  if (bytes.length > MAX_KEY_BYTES) {
    throw new ValidationError(`${what} is ${bytes.length} bytes; keys are at most ${MAX_KEY_BYTES} bytes`);
  }
  return bytes;
}

export function checkValueType(value: unknown, what: string): asserts value is Value {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new ValidationError(`${what} must be a string or a Uint8Array, got ${describeType(value)}`);
  }
}

export function valueTooLarge(length: number, what: string): ValidationError {
  return new ValidationError(`${what} is ${length} bytes; values are at most ${SEGMENT_MAX_VALUE_BYTES} bytes (256 MiB)`);
}

/**
 * A valid index key as it was given (no copy, no encoding), or a
 * ValidationError saying what is wrong with it: for point reads, which take
 * strings as they are.
 */
export function checkKey(key: unknown): Key {
  if (typeof key === 'string') {
    checkWellFormed(key, 'a key'); // ~3 ns for a short key: the isWellFormed builtin
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need measuring.
    const length = key.length * 3 <= MAX_KEY_BYTES ? key.length : Buffer.byteLength(key, 'utf8');
    checkKeyLength(length);
    return key;
  }
  if (!(key instanceof Uint8Array)) throw notAKey(key);
  checkKeyLength(key.length);
  return key;
}

/** The bytes of a valid index key, or a ValidationError saying what is wrong with it. */
export function encodeKey(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    checkWellFormed(key, 'a key');
    // Buffer.from is several times faster than TextEncoder for short strings (it slices a shared pool).
    bytes = Buffer.from(key, 'utf8');
  } else if (key instanceof Uint8Array) bytes = key;
  else throw notAKey(key);
  checkKeyLength(bytes.length);
  return bytes;
}

/**
 * A key the writer keeps, checked for type and well-formedness: a string as
 * given, a byte key as a private copy (the caller may reuse its buffer as
 * soon as the call returns). `checkedKeyId` checks its length, which it
 * measures anyway.
 */
export function ownedKey(key: unknown): Key {
  if (typeof key === 'string') {
    checkWellFormed(key, 'a key');
    return key;
  }
  if (key instanceof Uint8Array) return new Uint8Array(key);
  throw notAKey(key);
}

function notAKey(key: unknown): ValidationError {
  return new ValidationError(`a key must be a string or a Uint8Array, got ${describeType(key)}`);
}

/**
 * A key read back, as the caller's `encoding` wants it. A binary key is copied (never `slice`, a view on a Buffer): it may be a view
 * into a segment's buffer.
 */
export function decodeKey(bytes: Uint8Array, encoding: KeyEncoding): Key {
  return encoding === 'binary' ? new Uint8Array(bytes) : decodeUtf8(bytes, 0, bytes.length);
}

/**
 * A key's id: the key as a latin1 string, one char per byte, so that string
 * order is byte order. The writer's memtable keys its entries by it.
 */
export function keyIdOfBytes(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The id of a string key: an ASCII string is its own latin1 form (its UTF-8 is as long as it is). */
export function keyIdOfString(key: string, utf8Length = Buffer.byteLength(key, 'utf8')): string {
  return utf8Length === key.length ? key : Buffer.from(key, 'utf8').toString('latin1');
}

/** The key bytes an id stands for. */
export function keyBytesOfId(id: string): Buffer {
  return Buffer.from(id, 'latin1');
}

/** The id of a key `ownedKey` returned, its length checked (the writer's last check of a key). */
export function checkedKeyId(key: Key): string {
  if (typeof key !== 'string') {
    checkKeyLength(key.length);
    return keyIdOfBytes(key);
  }
  const utf8Length = Buffer.byteLength(key, 'utf8');
  checkKeyLength(utf8Length);
  return keyIdOfString(key, utf8Length);
}

/** A short, printable rendering of key bytes for error messages. */
export function describeKey(key: Uint8Array): string {
  const shown = key.subarray(0, 48);
  const printable = shown.every((byte) => byte >= 0x20 && byte < 0x7f);
  const text = printable ? JSON.stringify(Buffer.from(shown).toString('latin1')) : `0x${Buffer.from(shown).toString('hex')}`;
  return key.length > shown.length ? `${text}… (${key.length} bytes)` : text;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return typeof value;
}

/** Unsigned byte order, a shorter key first on a common prefix. */
export function compareBytes(a: Uint8Array, aStart: number, aLength: number, b: Uint8Array, bStart: number, bLength: number): number {
  const common = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < common; i++) {
    const difference = a[aStart + i]! - b[bStart + i]!;
    if (difference !== 0) return difference;
  }
  return aLength - bLength;
}

export function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (a[aStart + i] !== b[bStart + i]) return false;
  }
  return true;
}

/** Whole keys in byte order: `compareBytes` over two complete keys. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return compareBytes(a, 0, a.length, b, 0, b.length);
}

/** Length of the common prefix of two whole keys. */
export function sharedPrefixLength(a: Uint8Array, b: Uint8Array): number {
  return commonPrefixLength(a, 0, a.length, b, 0, b.length);
}

/** Shortens a byte length so it does not end inside a UTF-8 character. */
export function utf8Boundary(bytes: Uint8Array, length: number): number {
  let end = Math.min(length, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

/** Length of the common prefix of two byte ranges. */
export function commonPrefixLength(a: Uint8Array, aStart: number, aLength: number, b: Uint8Array, bStart: number, bLength: number): number {
  const common = aLength < bLength ? aLength : bLength;
  let i = 0;
  while (i < common && a[aStart + i] === b[bStart + i]) i++;
  return i;
}

/**
 * The smallest key above every key that starts with `prefix`, or undefined
 * when there is none (the prefix is empty or all 0xFF).
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const successor = new Uint8Array(prefix.subarray(0, i + 1));
      successor[i]!++;
      return successor;
    }
  }
  return undefined;
}
