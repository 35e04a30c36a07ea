import type { Value } from 'silt';

/**
 * The formats this adapter hands abstract-level natively: silt stores
 * strings and Uint8Arrays as given, so those are 'utf8' and 'view'.
 * abstract-level's transcoder turns 'buffer', 'json' and custom encodings
 * into one of these.
 */
export type NativeFormat = 'utf8' | 'view';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A stored value (a string or bytes, as it was written) in the format abstract-level asked for. */
export function valueInFormat(value: Value, format: NativeFormat): Value {
  if (format === 'utf8') return typeof value === 'string' ? value : decoder.decode(value);
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/** Key bytes in the format abstract-level asked for. */
export function keyInFormat(key: Uint8Array, format: NativeFormat): Value {
  return format === 'utf8' ? decoder.decode(key) : key;
}
