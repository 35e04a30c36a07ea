import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameReader, type Frame } from './frame-reader.js';
import { FRAME_HEADER_BYTES, FrameType, MAX_FRAME_BYTES, type FrameType as FrameTypeValue } from './frame-types.js';
import { putUint32 } from './frame-bytes.js';
import { ProtocolError } from './protocol-error.js';
import { cutAt, RUNS } from './test-support/wire-arbitraries.js';

const TYPES = Object.values(FrameType);

function rawFrame(type: number, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  putUint32(frame, 0, 1 + body.length);
  frame[4] = type;
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

const plainFrames = (frames: readonly Frame[]): { type: number; body: number[] }[] =>
  frames.map((f) => ({ type: f.type, body: [...f.body] }));

function readAll(reader: FrameReader, chunks: readonly Uint8Array[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    // Each frame is copied at once, as a caller that decodes before the next push would.
    for (const frame of reader.push(chunk)) frames.push({ type: frame.type, body: Uint8Array.from(frame.body) });
  }
  return frames;
}

const frameArbitrary = fc.record({
  type: fc.constantFrom(...TYPES),
  body: fc.uint8Array({ maxLength: 200 }),
});

test('yields exactly the frames sent, in order, however the stream is cut into chunks (1 byte up to whole)', () => {
  fc.assert(
    fc.property(fc.array(frameArbitrary, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((f) => rawFrame(f.type, f.body)));
      const reader = new FrameReader();
      assert.deepEqual(plainFrames(readAll(reader, cutAt(stream, cuts))), plainFrames(frames));
      assert.equal(reader.bufferedBytes, 0);
    }),
    { numRuns: RUNS },
  );
});

test('yields the same frames when the stream arrives one byte at a time', () => {
  const frames = [
    { type: FrameType.done, body: Uint8Array.of(1, 2, 3, 4) },
    { type: FrameType.acks, body: new Uint8Array(0) },
    { type: FrameType.writes, body: Uint8Array.from({ length: 300 }, (_, i) => i) },
  ];
  const stream = Buffer.concat(frames.map((f) => rawFrame(f.type, f.body)));
  const bytes = [...stream].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(plainFrames(readAll(new FrameReader(), bytes)), plainFrames(frames));
});

test('a frame wholly inside one chunk comes back as a view of that chunk, without a copy', () => {
  const chunk = Buffer.concat([rawFrame(FrameType.done, Uint8Array.of(7, 0, 0, 0)), rawFrame(FrameType.done, Uint8Array.of(8, 0, 0, 0))]);
  const frames = new FrameReader().push(chunk);
  assert.equal(frames.length, 2);
  for (const frame of frames) assert.equal(frame.body.buffer, chunk.buffer);
  assert.deepEqual([...frames[1]!.body], [8, 0, 0, 0]);
});

test('a frame cut across chunks is intact even when the caller reuses its chunk buffer between pushes', () => {
  const body = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  const stream = rawFrame(FrameType.writes, body);
  const scratch = new Uint8Array(10);
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let at = 0; at < stream.length; at += scratch.length) {
    const piece = stream.subarray(at, at + scratch.length);
    scratch.set(piece);
    frames.push(...reader.push(scratch.subarray(0, piece.length)));
    scratch.fill(0xee);
  }
  assert.equal(frames.length, 1);
  assert.deepEqual([...frames[0]!.body], [...body]);
});

test('a frame of only its type byte is yielded with an empty body, also when its header is cut', () => {
  const stream = rawFrame(FrameType.acks, new Uint8Array(0));
  const reader = new FrameReader();
  assert.deepEqual(reader.push(stream.subarray(0, 3)), []);
  const frames = reader.push(stream.subarray(3));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.type, FrameType.acks);
  assert.equal(frames[0]!.body.length, 0);
});

test('refuses a length of 0 as soon as its 4 bytes arrive', () => {
  const reader = new FrameReader();
  for (let i = 0; i < 3; i++) assert.deepEqual(reader.push(Uint8Array.of(0)), []);
  assert.throws(
    () => reader.push(Uint8Array.of(0)),
    (error: unknown) => error instanceof ProtocolError && error.frameOffset === 0 && /length 0/.test(error.message),
  );
});

test('refuses a claimed 4 GiB frame as soon as its length bytes arrive, holding nothing for it', () => {
  const reader = new FrameReader();
  assert.deepEqual(reader.push(Uint8Array.of(0xff, 0xff, 0xff)), []);
  assert.equal(reader.bufferedBytes, 3);
  assert.throws(() => reader.push(Uint8Array.of(0xff, FrameType.writes, 1, 2, 3)), /claims 4294967295 bytes/);
  const whole = new FrameReader();
  assert.throws(() => whole.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, FrameType.writes)), ProtocolError);
});

test('takes a frame of exactly MAX_FRAME_BYTES and refuses one byte more', () => {
  const body = new Uint8Array(MAX_FRAME_BYTES - 1);
  body[body.length - 1] = 42;
  const stream = rawFrame(FrameType.writes, body);
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let at = 0; at < stream.length; at += 1 << 20) frames.push(...reader.push(stream.subarray(at, at + (1 << 20))));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.body.length, MAX_FRAME_BYTES - 1);
  assert.equal(frames[0]!.body[MAX_FRAME_BYTES - 2], 42);
  const tooLong = new Uint8Array(4);
  putUint32(tooLong, 0, MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameReader().push(tooLong), ProtocolError);
});

test('refuses an unknown type as soon as its byte arrives, naming the stream position of the frame', () => {
  const reader = new FrameReader();
  const good = rawFrame(FrameType.done, Uint8Array.of(1, 0, 0, 0));
  assert.equal(reader.push(good).length, 1);
  assert.deepEqual(reader.push(Uint8Array.of(9, 0, 0, 0)), []);
  assert.throws(
    () => reader.push(Uint8Array.of(0x55)),
    (error: unknown) => error instanceof ProtocolError && error.frameOffset === 4 && /stream byte 9 .*0x55/.test(error.message),
  );
});

test('after a protocol error every push throws it again: the stream cannot be resynchronised', () => {
  const reader = new FrameReader();
  let first: unknown;
  try {
    reader.push(Uint8Array.of(1, 0, 0, 0, 0x44));
  } catch (error) {
    first = error;
  }
  assert.ok(first instanceof ProtocolError);
  assert.throws(
    () => reader.push(rawFrame(FrameType.done, Uint8Array.of(1, 0, 0, 0))),
    (error: unknown) => error === first,
  );
});

test('bufferedBytes tells a stream that ended inside a frame', () => {
  const reader = new FrameReader();
  const stream = rawFrame(FrameType.writes, new Uint8Array(50));
  reader.push(stream.subarray(0, 20));
  assert.equal(reader.bufferedBytes, 20);
  assert.equal(reader.push(stream.subarray(20)).length, 1);
  assert.equal(reader.bufferedBytes, 0);
});

test('frame types are the ones FORMAT.md lists', () => {
  const types: FrameTypeValue[] = [0x01, 0x02, 0x03, 0x10, 0x11, 0x20, 0x21, 0x22, 0x7f];
  assert.deepEqual(TYPES, types);
});
