import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeAcks, encodeDone, encodeFailed, encodeProtocolError } from './write-replies.js';
import { decodeAcks, decodeDone, decodeFailed, decodeProtocolError } from './write-replies.js';
import { FrameReader } from './frame-reader.js';
import { FRAME_HEADER_BYTES, FrameType } from './frame-types.js';
import { decodeHello, decodeRefused, decodeWelcome, encodeHello, encodeRefused, encodeWelcome, PROTOCOL_NAME } from './handshake.js';
import { ProtocolError } from './protocol-error.js';
import { decodeCommand, decodeWrites, encodeCommand } from './write-requests.js';
import { encodeWrites } from './writes-frame-builder.js';
import { decodeClientMessage, decodeServerMessage } from './wire-messages.js';
import { cutAt, requestId, RUNS, writeRequestInputs } from './test-support/wire-arbitraries.js';

/*
 * Whatever bytes arrive, the reader and the decoders either return a
 * message or throw a ProtocolError: never another error (a RangeError from
 * an out-of-bounds read or a huge allocation, a TypeError), never a hang.
 */

const DECODERS: readonly ((body: Uint8Array) => unknown)[] = [
  decodeHello,
  decodeWelcome,
  decodeRefused,
  decodeWrites,
  decodeCommand,
  decodeAcks,
  decodeFailed,
  decodeDone,
  decodeProtocolError,
];

function welcomeFrame(durability: 'fsync' | 'write' | 'none', maxValueBytes: number): Uint8Array {
  const welcome = { protocol: PROTOCOL_NAME, version: 1, writerPid: 1, connectionId: 2, lastSequence: 9, recoveredSequence: 3 } as const;
  return encodeWelcome({ ...welcome, durability, maxValueBytes });
}

/** Runs `decode`; a ProtocolError is an allowed outcome, anything else thrown fails the test. */
function decodedOrRefused(decode: () => unknown): 'decoded' | 'refused' {
  try {
    decode();
    return 'decoded';
  } catch (error) {
    if (error instanceof ProtocolError) return 'refused';
    throw new assert.AssertionError({ message: `expected a message or a ProtocolError, got ${String(error)}`, actual: error });
  }
}

/** Feeds `chunks` to a reader and every frame it yields to both directions' decoders. */
function readAndDecode(chunks: readonly Uint8Array[]): void {
  const reader = new FrameReader();
  for (const chunk of chunks) {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) return;
      throw error;
    }
    for (const frame of frames) {
      decodedOrRefused(() => decodeClientMessage(frame));
      decodedOrRefused(() => decodeServerMessage(frame));
    }
  }
}

const validFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  writeRequestInputs.map((requests) => encodeWrites(requests)),
  fc
    .tuple(requestId, fc.constantFrom('flush' as const, 'forceMerge' as const, 'mergesIdle' as const), fc.integer({ min: 1, max: 100 }))
    .map(([id, command, maxSegments]) =>
      encodeCommand(command === 'forceMerge' ? { requestId: id, command, maxSegments } : { requestId: id, command }),
    ),
  fc.array(fc.record({ requestId, sequence: fc.maxSafeNat() }), { minLength: 1, maxLength: 10 }).map((acks) => encodeAcks(acks)),
  fc
    .tuple(requestId, fc.string(), fc.boolean())
    .map(([id, message, retryable]) => encodeFailed(id, { code: 'SILT_X', name: 'XError', message, retryable })),
  requestId.map((id) => encodeDone(id)),
  fc
    .integer({ min: 1, max: 3 })
    .map((version) => encodeHello({ protocol: PROTOCOL_NAME, version, pid: 42, clientId: '0123456789abcdef', clientName: 'fuzz' })),
  fc.constant(welcomeFrame('fsync', 1024)),
  fc.constant(encodeRefused({ code: 'SILT_PROTOCOL_VERSION', message: 'no', supportedVersions: [1] })),
  fc.string().map((message) => encodeProtocolError({ code: 'SILT_PROTOCOL', message })),
);

/** A frame damaged one of three ways: cut short, with bytes added, or with bytes flipped. */
const damagedFrame = fc.oneof(
  fc.tuple(validFrame, fc.nat()).map(([frame, cut]) => frame.subarray(0, cut % (frame.length + 1))),
  fc.tuple(validFrame, fc.uint8Array({ minLength: 1, maxLength: 20 })).map(([frame, extra]) => Buffer.concat([frame, extra])),
  fc
    .tuple(validFrame, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([frame, flips]) => {
      const damaged = Uint8Array.from(frame);
      for (const [at, mask] of flips) damaged[at % damaged.length]! ^= mask;
      return damaged;
    }),
);

/** The same damage done to a body, with its length field corrected, so the decoder, not the reader, meets it. */
const damagedBody = fc.oneof(
  fc.tuple(validFrame, fc.nat()).map(([frame, cut]) => ({
    type: frame[4]!,
    body: frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + (cut % (frame.length - 4))),
  })),
  fc
    .tuple(validFrame, fc.uint8Array({ minLength: 1, maxLength: 20 }))
    .map(([frame, extra]) => ({ type: frame[4]!, body: Buffer.concat([frame.subarray(5), extra]) })),
  fc
    .tuple(validFrame, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([frame, flips]) => {
      const body = Uint8Array.from(frame.subarray(FRAME_HEADER_BYTES));
      for (const [at, mask] of flips) if (body.length > 0) body[at % body.length]! ^= mask;
      return { type: frame[4]!, body };
    }),
);

test('random bytes, cut anywhere, give frames and messages or a ProtocolError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
      readAndDecode(cutAt(bytes, cuts));
    }),
    { numRuns: RUNS * 3 },
  );
});

test('random bodies under every frame type give a message or a ProtocolError from every decoder', () => {
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(FrameType)), fc.uint8Array({ maxLength: 200 }), (type, body) => {
      for (const decode of DECODERS) decodedOrRefused(() => decode(body));
      decodedOrRefused(() => decodeClientMessage({ type, body }));
      decodedOrRefused(() => decodeServerMessage({ type, body }));
    }),
    { numRuns: RUNS * 3 },
  );
});

test('valid frames cut short, extended or with bytes flipped give a message or a ProtocolError', () => {
  fc.assert(
    fc.property(fc.array(damagedFrame, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (frames, cuts) => {
      readAndDecode(cutAt(Buffer.concat(frames), cuts));
    }),
    { numRuns: RUNS * 3 },
  );
});

test('damaged bodies given to every decoder give a message or a ProtocolError', () => {
  fc.assert(
    fc.property(damagedBody, ({ body }) => {
      for (const decode of DECODERS) decodedOrRefused(() => decode(body));
    }),
    { numRuns: RUNS * 3 },
  );
});

test('a valid body with one byte more or one byte less is refused by its own decoder', () => {
  fc.assert(
    fc.property(validFrame, fc.integer({ min: 0, max: 255 }), (frame, extra) => {
      const type = frame[4]!;
      const body = frame.subarray(FRAME_HEADER_BYTES);
      const decode = (bytes: Uint8Array): unknown =>
        type === FrameType.hello || type === FrameType.writes || type === FrameType.command || type === FrameType.protocolError
          ? decodeClientMessage({ type, body: bytes })
          : decodeServerMessage({ type: type as FrameType, body: bytes });
      assert.equal(
        decodedOrRefused(() => decode(body)),
        'decoded',
      );
      assert.equal(
        decodedOrRefused(() => decode(body.subarray(0, body.length - 1))),
        'refused',
      );
      // JSON bodies may take a trailing space; no binary body takes any byte.
      if (extra !== 0x20 && extra !== 0x0a && extra !== 0x0d && extra !== 0x09) {
        assert.equal(
          decodedOrRefused(() => decode(Buffer.concat([body, Uint8Array.of(extra)]))),
          'refused',
        );
      }
    }),
    { numRuns: RUNS },
  );
});

test('huge claimed counts and lengths in small frames are ProtocolErrors at once, not allocations or RangeErrors', () => {
  const max = [0xff, 0xff, 0xff, 0xff];
  const cases: [(body: Uint8Array) => unknown, number[]][] = [
    [decodeWrites, [...max, ...new Array<number>(16).fill(0)]],
    [decodeWrites, [1, 0, 0, 0, 7, 0, 0, 0, 1, ...max, 3, 1, 0, 0, 0, 0x61]],
    [decodeWrites, [1, 0, 0, 0, 7, 0, 0, 0, 1, 1, 0, 0, 0, 3, ...max, 0x61]],
    [decodeWrites, [1, 0, 0, 0, 7, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, ...max, 0x61]],
    [decodeWrites, [1, 0, 0, 0, 7, 0, 0, 0, 2, 0x1f, ...max, 0x61]],
    [decodeAcks, [...max, ...new Array<number>(16).fill(0)]],
  ];
  for (const [decode, body] of cases) {
    assert.throws(() => decode(Uint8Array.from(body)), ProtocolError, JSON.stringify(body));
  }
});

test('a frame of the other direction is a protocol error: the server takes no WELCOME, a client no WRITES', () => {
  const welcome = new FrameReader().push(welcomeFrame('none', 1))[0]!;
  assert.equal(decodeServerMessage(welcome).type, 'welcome');
  assert.throws(() => decodeClientMessage(welcome), /a WELCOME frame is not one a client sends/);
  const writes = new FrameReader().push(encodeWrites([{ requestId: 1, kind: 'clear', range: {} }]))[0]!;
  assert.equal(decodeClientMessage(writes).type, 'writes');
  assert.throws(() => decodeServerMessage(writes), /a WRITES frame is not one the server sends/);
});
