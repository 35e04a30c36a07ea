import { z } from 'zod';
import { BodyReader } from './body-reader.js';
import { FrameType } from './frame-types.js';
import { checkedJson, encodeJsonFrame, parsedJson, readJson } from './json-body.js';

/** The protocol this folder speaks: HELLO's `protocol` field. */
export const PROTOCOL_NAME = 'silt-writer';
/** The version this code speaks (FORMAT.md's title). */
export const PROTOCOL_VERSION = 1;

const positiveInt = z.number().int().positive();

/** HELLO, the client's first frame: who it is and the version it speaks. */
export const helloSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_NAME),
  version: positiveInt,
  pid: positiveInt,
  /** The client's own id, 16 hex digits (8 random bytes), kept across its reconnections: the log names its writes by it. */
  clientId: z.string().regex(/^[0-9a-f]{16}$/, 'a client id is 16 lowercase hex digits'),
  clientName: z.string().max(200).optional(),
});
export type Hello = z.infer<typeof helloSchema>;

/**
 * The fields every version's HELLO keeps. A HELLO of another version is
 * checked for these only (its other fields are that version's business), so
 * the server can answer it with a REFUSED instead of a protocol error.
 */
const helloEnvelopeSchema = z.object({ protocol: z.literal(PROTOCOL_NAME), version: positiveInt, pid: positiveInt });
/** A HELLO of a version this code does not speak: only the fields every version keeps. */
export type ForeignHello = z.infer<typeof helloEnvelopeSchema>;

/** WELCOME: the server took the client; what its acknowledgements promise. */
export const welcomeSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_NAME),
  version: z.literal(PROTOCOL_VERSION),
  writerPid: z.number().int(),
  connectionId: positiveInt,
  /** The last sequence number in the writer's log when it took the client: every write the client sends gets a larger one. */
  lastSequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** The last sequence number the writer recovered when it took the lock: every write of a writer before it is at or below it. */
  recoveredSequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  durability: z.enum(['fsync', 'write', 'none']),
  maxValueBytes: positiveInt,
});
export type Welcome = z.infer<typeof welcomeSchema>;

/** REFUSED: the server will not take the client (a version it does not speak, say) and closes. Same shape in every version. */
export const refusedSchema = z.object({
  code: z.string(),
  message: z.string(),
  supportedVersions: z.array(z.number().int()),
});
export type Refused = z.infer<typeof refusedSchema>;

export function encodeHello(hello: Hello): Uint8Array {
  return encodeJsonFrame(FrameType.hello, helloSchema, hello);
}

/** A HELLO body. One of another version comes back with only the fields every version keeps; the server refuses it. */
export function decodeHello(body: Uint8Array): Hello | ForeignHello {
  const reader = new BodyReader(body, 'HELLO');
  const value = parsedJson(reader);
  const envelope = helloEnvelopeSchema.safeParse(value);
  if (envelope.success && envelope.data.version !== PROTOCOL_VERSION) return envelope.data;
  return checkedJson(reader, value, helloSchema, 0);
}

export function encodeWelcome(welcome: Welcome): Uint8Array {
  return encodeJsonFrame(FrameType.welcome, welcomeSchema, welcome);
}

export function decodeWelcome(body: Uint8Array): Welcome {
  return readJson(new BodyReader(body, 'WELCOME'), welcomeSchema);
}

export function encodeRefused(refused: Refused): Uint8Array {
  return encodeJsonFrame(FrameType.refused, refusedSchema, refused);
}

export function decodeRefused(body: Uint8Array): Refused {
  return readJson(new BodyReader(body, 'REFUSED'), refusedSchema);
}
