import { z } from 'zod';
import { BodyReader } from './body-reader.js';
import { allocateFrame, checkRequestId, putUint32 } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, FrameType } from './frame-types.js';
import { encodeJsonFrame, readJson } from './json-body.js';
import { AcksFrameBuilder, ACK_BYTES, type Ack } from './acks-frame-builder.js';

/*
 * What the server answers (FORMAT.md, "Server to client"): ACKS, FAILED and
 * DONE, and PROTOCOL_ERROR, which either side may send before it closes.
 */

/** Why a request failed: the error's `code` and `name` (so the client can throw the same class), and whether to try again. */
export const failureSchema = z.strictObject({
  code: z.string(),
  name: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type Failure = z.infer<typeof failureSchema>;

/** A FAILED frame as decoded. */
export interface FailedRequest {
  readonly requestId: number;
  readonly failure: Failure;
}

/** What was wrong with the stream. Same shape in every version; fields a later one adds are dropped. */
export const protocolErrorSchema = z.object({ code: z.string(), message: z.string() });
export type ProtocolErrorDetails = z.infer<typeof protocolErrorSchema>;

export function encodeAcks(acks: readonly Ack[]): Uint8Array {
  const builder = new AcksFrameBuilder();
  for (const ack of acks) builder.add(ack.requestId, ack.sequence);
  return builder.finish();
}

export function decodeAcks(body: Uint8Array): Ack[] {
  const reader = new BodyReader(body, 'ACKS');
  const count = reader.count('ack count', ACK_BYTES);
  const acks: Ack[] = [];
  for (let i = 0; i < count; i++) {
    const requestId = reader.u32('request id');
    const sequenceAt = reader.offset;
    const sequence = reader.f64('sequence');
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      reader.fail(`sequence ${sequence} is not a whole number from 0 to 2^53 - 1`, sequenceAt);
    }
    acks.push({ requestId, sequence: sequence === 0 ? 0 : sequence }); // no -0
  }
  reader.end();
  return acks;
}

export function encodeFailed(requestId: number, failure: Failure): Uint8Array {
  checkRequestId(requestId);
  const prefix = new Uint8Array(4);
  putUint32(prefix, 0, requestId);
  return encodeJsonFrame(FrameType.failed, failureSchema, failure, prefix);
}

export function decodeFailed(body: Uint8Array): FailedRequest {
  const reader = new BodyReader(body, 'FAILED');
  const requestId = reader.u32('request id');
  return { requestId, failure: readJson(reader, failureSchema) };
}

export function encodeDone(requestId: number): Uint8Array {
  checkRequestId(requestId);
  const frame = allocateFrame(FrameType.done, 4);
  putUint32(frame, FRAME_HEADER_BYTES, requestId);
  return frame;
}

/** The request id a DONE frame names. */
export function decodeDone(body: Uint8Array): number {
  const reader = new BodyReader(body, 'DONE');
  const requestId = reader.u32('request id');
  reader.end();
  return requestId;
}

export function encodeProtocolError(details: ProtocolErrorDetails): Uint8Array {
  return encodeJsonFrame(FrameType.protocolError, protocolErrorSchema, details);
}

export function decodeProtocolError(body: Uint8Array): ProtocolErrorDetails {
  return readJson(new BodyReader(body, 'PROTOCOL_ERROR'), protocolErrorSchema);
}
