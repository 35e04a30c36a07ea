import { z } from 'zod';
import { SiltError, ValidationError } from '@silt/fs';
import type { Value } from '@silt/segments';
import { describeType } from '@silt/segments/internal';

/**
 * A value encoding of your own: `encode` turns what you write into what is
 * stored (a string is stored as UTF-8 text, a Uint8Array as bytes), `decode`
 * turns what is stored back (it is given what `encode` returned, or, for
 * values written before this encoding was used, whatever was stored then).
 */
export interface ValueCodec<V> {
  encode(value: V): Value;
  decode(stored: Value): V;
}

/**
 * How values are written and read back. Absent: as today, a value comes back
 * as the type it was given (a string or a Uint8Array). `'utf8'`: strings in,
 * strings out (bytes stored earlier are decoded as UTF-8). `'binary'`:
 * Uint8Arrays in and out (strings stored earlier come back as their UTF-8
 * bytes). `'json'`: any JSON value, stored as its JSON text. Or a
 * `ValueCodec` of your own. Nothing changes on disk: every encoding stores
 * strings and bytes as before.
 */
export type ValueEncoding<V = unknown> = 'utf8' | 'binary' | 'json' | ValueCodec<V>;

/** A stored value that its encoding cannot read back (say, a value written as plain text read with 'json'). */
export class ValueDecodeError extends SiltError {
  readonly code = 'SILT_DECODE';
}

function isCodec(candidate: unknown): candidate is ValueCodec<unknown> {
  if (typeof candidate !== 'object' || candidate === null) return false;
  const { encode, decode } = candidate as Record<string, unknown>;
  return typeof encode === 'function' && typeof decode === 'function';
}

/** The `valueEncoding` option, shared by `Index.open` and `ReadOnlyIndex.open`. */
export const valueEncodingSchema = z
  .union([
    z.enum(['utf8', 'binary', 'json']),
    z.custom<ValueCodec<unknown>>(isCodec, { message: "expected 'utf8', 'binary', 'json' or an object with encode and decode functions" }),
  ])
  .optional();

/**
 * A resolved value encoding: `encode` turns what a caller writes into a
 * stored value or throws a ValidationError (before anything is written);
 * `decode` undefined means values come back as stored.
 */
export interface ValueTranscoder<V> {
  readonly encode: (value: unknown) => Value;
  readonly decode: ((stored: Value) => V) | undefined;
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();
const asStored = (value: unknown): Value => value as Value;

/** The transcoder of an encoding option (validated by `valueEncodingSchema`). */
export function valueTranscoder<V>(encoding: ValueEncoding<V> | undefined): ValueTranscoder<V> {
  switch (encoding) {
    case undefined:
      return { encode: asStored, decode: undefined };
    case 'utf8':
      return { encode: encodeUtf8, decode: (stored) => (typeof stored === 'string' ? stored : utf8.decode(stored)) as V };
    case 'binary':
      return { encode: encodeBinary, decode: (stored) => (typeof stored === 'string' ? utf8Encoder.encode(stored) : stored) as V };
    case 'json':
      return { encode: encodeJson, decode: (stored) => decodeJson(stored) as V };
    default:
      return customTranscoder(encoding);
  }
}

function encodeUtf8(value: unknown): Value {
  if (typeof value !== 'string') throw new ValidationError(`valueEncoding 'utf8' takes string values, got ${describeType(value)}`);
  return value;
}

function encodeBinary(value: unknown): Value {
  if (!(value instanceof Uint8Array))
    throw new ValidationError(`valueEncoding 'binary' takes Uint8Array values, got ${describeType(value)}`);
  return value;
}

/** JSON.stringify's own rules apply inside a value (NaN becomes null, undefined properties are left out). */
function encodeJson(value: unknown): Value {
  let text: string | undefined;
  try {
    text = JSON.stringify(value) as string | undefined;
  } catch (error) {
    // A cycle or a BigInt: nothing is written.
    throw new ValidationError(`valueEncoding 'json' cannot serialise this value: ${messageOf(error)}`, { cause: error });
  }
  if (text === undefined) throw new ValidationError(`valueEncoding 'json' cannot serialise ${describeType(value)}: it has no JSON form`);
  return text;
}

function decodeJson(stored: Value): unknown {
  const text = typeof stored === 'string' ? stored : utf8.decode(stored);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValueDecodeError(`a stored value is not JSON (valueEncoding 'json'): ${messageOf(error)}`, { cause: error });
  }
}

function customTranscoder<V>(codec: ValueCodec<V>): ValueTranscoder<V> {
  return {
    encode: (value) => {
      let stored: unknown;
      try {
        stored = codec.encode(value as V);
      } catch (error) {
        throw new ValidationError(`the valueEncoding's encode refused a value: ${messageOf(error)}`, { cause: error });
      }
      if (typeof stored !== 'string' && !(stored instanceof Uint8Array)) {
        throw new ValidationError(`the valueEncoding's encode must return a string or a Uint8Array, got ${describeType(stored)}`);
      }
      return stored;
    },
    decode: (stored) => codec.decode(stored),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
