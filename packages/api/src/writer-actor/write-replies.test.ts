import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import { AcksFrameBuilder, MAX_ACKS_PER_FRAME, type Ack } from './acks-frame-builder.js';
import { FrameReader, type Frame } from './frame-reader.js';
import { FRAME_HEADER_BYTES, FrameType, MAX_FRAME_BYTES } from './frame-types.js';
import { ProtocolError } from './protocol-error.js';
import {
  decodeAcks,
  decodeDone,
  decodeFailed,
  decodeProtocolError,
  encodeAcks,
  encodeDone,
  encodeFailed,
  encodeProtocolError,
} from './write-replies.js';
import { requestId, RUNS } from './test-support/wire-arbitraries.js';

function onlyFrame(bytes: Uint8Array): Frame {
  const frames = new FrameReader().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

const sequence = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat());
const ack = fc.record({ requestId, sequence }).map((value): Ack => ({ ...value }));

function ackBody(requestIdValue: number, sequenceValue: number): Uint8Array {
  const body = Buffer.alloc(4 + 12);
  body.writeUInt32LE(1, 0);
  body.writeUInt32LE(requestIdValue, 4);
  body.writeDoubleLE(sequenceValue, 8);
  return body;
}

test('ACKS decode to the request ids and sequence numbers encoded, in order', () => {
  fc.assert(
    fc.property(fc.array(ack, { minLength: 1, maxLength: 300 }), (acks) => {
      const frame = onlyFrame(encodeAcks(acks));
      assert.equal(frame.type, FrameType.acks);
      assert.deepEqual(decodeAcks(frame.body), acks);
    }),
    { numRuns: RUNS },
  );
});

test('one AcksFrameBuilder makes frame after frame, each with the acks added since the last finish', () => {
  const builder = new AcksFrameBuilder();
  for (const count of [1, 500, 3]) {
    const acks = Array.from({ length: count }, (_, i): Ack => ({ requestId: i, sequence: 2 ** 40 + i }));
    for (const { requestId: id, sequence: seq } of acks) builder.add(id, seq);
    assert.equal(builder.ackCount, count);
    const frame = builder.finish();
    assert.equal(builder.ackCount, 0);
    assert.deepEqual(decodeAcks(onlyFrame(frame).body), acks);
  }
  assert.throws(() => builder.finish(), ValidationError);
});

test('an ack sequence that is not a safe whole number from 0 up is refused when encoding and when decoding', () => {
  for (const bad of [-1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE]) {
    assert.throws(() => new AcksFrameBuilder().add(1, bad), ValidationError, String(bad));
    assert.throws(
      () => decodeAcks(ackBody(1, bad)),
      (error: unknown) => error instanceof ProtocolError && error.frameOffset === FRAME_HEADER_BYTES + 8,
      String(bad),
    );
  }
  assert.deepEqual(decodeAcks(ackBody(1, -0)), [{ requestId: 1, sequence: 0 }]);
  assert.ok(Object.is(decodeAcks(ackBody(1, -0))[0]!.sequence, 0));
});

test('ACKS with a count of 0, a count the body cannot hold, or bytes left over are protocol errors', () => {
  const body = Buffer.alloc(4 + 12);
  assert.throws(() => decodeAcks(body), /ack count is 0/);
  body.writeUInt32LE(0xffff_ffff, 0);
  assert.throws(() => decodeAcks(body), /ack count 4294967295 cannot fit the 12 bytes/);
  assert.throws(() => decodeAcks(Buffer.concat([ackBody(1, 5), Uint8Array.of(0)])), /1 bytes are left/);
});

test('an AcksFrameBuilder holds at most MAX_ACKS_PER_FRAME acks, and that many fit a frame', () => {
  const builder = new AcksFrameBuilder();
  for (let i = 0; i < MAX_ACKS_PER_FRAME; i++) builder.add(i, i);
  assert.throws(() => builder.add(1, 1), ValidationError);
  const frame = builder.finish();
  assert.ok(frame.length - 4 <= MAX_FRAME_BYTES);
  assert.equal(decodeAcks(onlyFrame(frame).body).length, MAX_ACKS_PER_FRAME);
});

test('FAILED carries the request id and the error: code, name, message, retryable', () => {
  const failure = fc.record({
    code: fc.string(),
    name: fc.string(),
    message: fc.string({ unit: fc.constantFrom('a', 'é', '😀', '"', '\n'), maxLength: 50 }),
    retryable: fc.boolean(),
  });
  fc.assert(
    fc.property(requestId, failure, (id, sent) => {
      const frame = onlyFrame(encodeFailed(id, sent));
      assert.equal(frame.type, FrameType.failed);
      assert.deepEqual(decodeFailed(frame.body), { requestId: id, failure: { ...sent } });
    }),
    { numRuns: RUNS },
  );
});

test('a FAILED whose JSON lacks a field or has another is a protocol error naming where the JSON starts', () => {
  const prefix = Uint8Array.of(1, 0, 0, 0);
  const json = (value: unknown): Uint8Array => Buffer.concat([prefix, Buffer.from(JSON.stringify(value))]);
  const good = { code: 'SILT_VALIDATION', name: 'ValidationError', message: 'bad key', retryable: false };
  assert.equal(decodeFailed(json(good)).failure.code, 'SILT_VALIDATION');
  for (const bad of [{ ...good, retryable: 'no' }, { ...good, stack: 'x' }, { code: 'X' }]) {
    assert.throws(
      () => decodeFailed(json(bad)),
      (error: unknown) => error instanceof ProtocolError && error.frameOffset === FRAME_HEADER_BYTES + 4,
    );
  }
  assert.throws(() => decodeFailed(Uint8Array.of(1, 0)), /request id needs 4 bytes/);
});

test('DONE carries the request id of the command that finished, and nothing else', () => {
  fc.assert(
    fc.property(requestId, (id) => {
      const frame = onlyFrame(encodeDone(id));
      assert.equal(frame.type, FrameType.done);
      assert.equal(decodeDone(frame.body), id);
    }),
    { numRuns: RUNS },
  );
  assert.throws(() => decodeDone(Uint8Array.of(1, 0, 0, 0, 0)), ProtocolError);
  assert.throws(() => decodeDone(Uint8Array.of(1, 0, 0)), ProtocolError);
  assert.throws(() => encodeDone(-1), ValidationError);
});

test('PROTOCOL_ERROR round trips, and one from a later version with more fields still decodes', () => {
  const details = { code: 'SILT_PROTOCOL', message: 'entry kind 9 is unknown' };
  const frame = onlyFrame(encodeProtocolError(details));
  assert.equal(frame.type, FrameType.protocolError);
  assert.deepEqual(decodeProtocolError(frame.body), details);
  assert.deepEqual(decodeProtocolError(Buffer.from(JSON.stringify({ ...details, offset: 12 }))), details);
  assert.throws(() => decodeProtocolError(Buffer.from('{"code":1}')), ProtocolError);
});

test('a reply too large for a frame is refused when encoding', () => {
  assert.throws(() => encodeProtocolError({ code: 'X', message: 'x'.repeat(MAX_FRAME_BYTES) }), ValidationError);
});
