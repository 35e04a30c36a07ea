import type { z } from 'zod';
import { ValidationError } from '@silt/fs';
import { BodyReader } from './body-reader.js';
import { allocateFrame } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, frameTypeName, type FrameType } from './frame-types.js';

/*
 * The JSON parts of messages (handshake, FAILED, PROTOCOL_ERROR): rare, so
 * clarity over speed. Both sides check with the same zod schema, so what one
 * encodes the other decodes.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the rest of the body as UTF-8 JSON that `schema` accepts. */
export function readJson<T>(reader: BodyReader, schema: z.ZodType<T>): T {
  const start = reader.offset;
  return checkedJson(reader, parsedJson(reader), schema, start);
}

/** The rest of the body as a JSON value, not yet checked against a schema. */
export function parsedJson(reader: BodyReader): unknown {
  const start = reader.offset;
  const bytes = reader.rest();
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return reader.fail('the JSON is not valid UTF-8', start);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return reader.fail(`the JSON does not parse (${error instanceof Error ? error.message : String(error)})`, start);
  }
}

/** `value` checked against `schema`; a failure names `jsonStart`, the body offset where the JSON began. */
export function checkedJson<T>(reader: BodyReader, value: unknown, schema: z.ZodType<T>, jsonStart: number): T {
  const result = schema.safeParse(value);
  if (!result.success) return reader.fail(`the JSON does not match the message: ${describeIssues(result.error)}`, jsonStart);
  return result.data;
}

/** A frame of `type` whose body is `prefix` (already encoded fields) then `value` as JSON, checked with `schema` first. */
export function encodeJsonFrame<T>(type: FrameType, schema: z.ZodType<T>, value: T, prefix?: Uint8Array): Uint8Array {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`a ${frameTypeName(type)} message is malformed: ${describeIssues(result.error)}`);
  const text = JSON.stringify(result.data);
  const prefixBytes = prefix?.length ?? 0;
  const frame = allocateFrame(type, prefixBytes + Buffer.byteLength(text, 'utf8'));
  if (prefix !== undefined) frame.set(prefix, FRAME_HEADER_BYTES);
  frame.write(text, FRAME_HEADER_BYTES + prefixBytes, 'utf8');
  return frame;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length === 0 ? '(message)' : issue.path.join('.')}: ${issue.message}`).join('; ');
}
