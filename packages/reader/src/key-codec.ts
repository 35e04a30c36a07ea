import { ValidationError } from '@silt/fs';

/**
 * The public types of keys and values and their bytes. Keys and values are
 * strings (stored as UTF-8) or Uint8Arrays; a value comes back as the type
 * it was given, a key as a string unless the index uses binary keys.
 */

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;
export type KeyEncoding = 'utf8' | 'binary';

/** The segment format stores key lengths as u16. */
export const MAX_KEY_BYTES = 65535;

const decoder = new TextDecoder();

/** Buffer.from is several times faster than TextEncoder for short strings (it slices a shared pool). */
function utf8Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} bytes`;
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : typeof value;
}

/** The bytes of a key, or a ValidationError saying what is wrong with it. */
export function encodeKey(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = utf8Bytes(key);
  else if (key instanceof Uint8Array) bytes = key;
  else throw new ValidationError(`a key must be a string or a Uint8Array, got ${describeType(key)}`);
  if (bytes.length === 0) throw new ValidationError('a key must not be empty');
  if (bytes.length > MAX_KEY_BYTES) {
    throw new ValidationError(`a key is ${bytes.length} bytes; the limit is ${MAX_KEY_BYTES} bytes`);
  }
  return bytes;
}

/** Optional bounds of a range or prefix: the same types as keys, but may be empty. */
export function encodeBound(bound: unknown, name: string): Uint8Array | undefined {
  if (bound === undefined) return undefined;
  if (typeof bound === 'string') return utf8Bytes(bound);
  if (bound instanceof Uint8Array) return bound;
  throw new ValidationError(`range option '${name}' must be a string or a Uint8Array, got ${describeType(bound)}`);
}

export interface EncodedValue {
  readonly bytes: Uint8Array;
  readonly isText: boolean;
}

export function encodeValue(value: unknown, maxBytes: number): EncodedValue {
  let encoded: EncodedValue;
  if (typeof value === 'string') encoded = { bytes: utf8Bytes(value), isText: true };
  else if (value instanceof Uint8Array) encoded = { bytes: value, isText: false };
  else throw new ValidationError(`a value must be a string or a Uint8Array, got ${describeType(value)}`);
  if (encoded.bytes.length > maxBytes) {
    throw new ValidationError(`a value is ${encoded.bytes.length} bytes; the limit is ${maxBytes} bytes`);
  }
  return encoded;
}

// Binary results are copies (never `slice`, a view on a Buffer): the bytes may be a view into a segment's
// buffer or a cache block, which a caller must never be able to change.

export function decodeKey(bytes: Uint8Array, encoding: KeyEncoding): Key {
  return encoding === 'binary' ? new Uint8Array(bytes) : decoder.decode(bytes);
}

export function decodeValue(bytes: Uint8Array, isText: boolean): Value {
  return isText ? decoder.decode(bytes) : new Uint8Array(bytes);
}
