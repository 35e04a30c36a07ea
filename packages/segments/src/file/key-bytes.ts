import { ValidationError } from '@silt/fs';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './format.js';
import { FNV_OFFSET_BASIS, FNV_PRIME, finishHash } from './key-hash.js';

/** Keys and values are strings (stored as UTF-8) or raw bytes; keys order by their bytes. */
export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

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
 */
export function encodeKeyToScratch(key: string): number {
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

/** The hash of the key last encoded by `encodeKeyToScratch`. */
export let scratchKeyHash = 0;

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

/** The bytes of a key given by a caller, checked for type and size. `what` names it in errors. */
export function keyToBytes(key: unknown, what: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = Buffer.from(key, 'utf8');
  else if (key instanceof Uint8Array) bytes = key;
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
  return new ValidationError(`${what} is ${length} bytes; values are at most ${MAX_VALUE_BYTES} bytes (256 MiB)`);
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
