import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import { FrameReader, type Frame } from './frame-reader.js';
import { FRAME_HEADER_BYTES, FrameType } from './frame-types.js';
import {
  decodeHello,
  decodeRefused,
  decodeWelcome,
  encodeHello,
  encodeRefused,
  encodeWelcome,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type Hello,
  type Welcome,
} from './handshake.js';
import { ProtocolError } from './protocol-error.js';
import { RUNS } from './test-support/wire-arbitraries.js';

function onlyFrame(bytes: Uint8Array): Frame {
  const frames = new FrameReader().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');
const plain = <T extends object>(value: T): T => ({ ...value });

const hello = fc.record(
  {
    protocol: fc.constant(PROTOCOL_NAME),
    version: fc.integer({ min: 1, max: 2 ** 31 }),
    pid: fc.integer({ min: 1, max: 2 ** 31 }),
    clientId: fc.stringMatching(/^[0-9a-f]{16}$/),
    clientName: fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '"', '\\', '\n'), maxLength: 100 }),
  },
  { requiredKeys: ['protocol', 'version', 'pid', 'clientId'] },
);

test('a version-1 HELLO decodes to the HELLO encoded, with or without a client name', () => {
  fc.assert(
    fc.property(hello, (sent) => {
      const version1: Hello = { ...sent, version: PROTOCOL_VERSION };
      const frame = onlyFrame(encodeHello(version1));
      assert.equal(frame.type, FrameType.hello);
      assert.deepEqual(decodeHello(frame.body), plain(version1));
    }),
    { numRuns: RUNS },
  );
});

test('a HELLO of another version decodes to the fields every version keeps, so the server can refuse it', () => {
  const later = { protocol: PROTOCOL_NAME, version: 2, pid: 77, compression: 'zstd', clientName: 'x'.repeat(500) };
  assert.deepEqual(decodeHello(json(later)), { protocol: PROTOCOL_NAME, version: 2, pid: 77 });
  assert.throws(() => decodeHello(json({ protocol: PROTOCOL_NAME, version: 2 })), ProtocolError);
});

test('a version-1 HELLO with a field version 1 does not have, or a bad one, is a protocol error', () => {
  const bad: unknown[] = [
    { protocol: PROTOCOL_NAME, version: 1, pid: 1, clientId: '00112233aabbccdd', extra: true },
    { protocol: PROTOCOL_NAME, version: 1, pid: 1, clientId: '00112233aabbccdd', clientName: 'x'.repeat(201) },
    { protocol: PROTOCOL_NAME, version: 1, pid: 1 },
    { protocol: PROTOCOL_NAME, version: 1, pid: 1, clientId: '00112233AABBCCDD' },
    { protocol: PROTOCOL_NAME, version: 1, pid: 1, clientId: '0011' },
    { protocol: 'other', version: 1, pid: 1, clientId: '00112233aabbccdd' },
    { protocol: PROTOCOL_NAME, version: 0, pid: 1 },
    { protocol: PROTOCOL_NAME, version: 1, pid: 0 },
    { protocol: PROTOCOL_NAME, version: 1.5, pid: 1 },
    { protocol: PROTOCOL_NAME, version: 1 },
    [],
    null,
  ];
  for (const value of bad) {
    assert.throws(
      () => decodeHello(json(value)),
      (error: unknown) => error instanceof ProtocolError && error.frameOffset === FRAME_HEADER_BYTES && /HELLO/.test(error.message),
      JSON.stringify(value),
    );
  }
});

test('encodeHello refuses what decodeHello would refuse, with a ValidationError', () => {
  assert.throws(
    () => encodeHello({ protocol: PROTOCOL_NAME, version: 1, pid: 1, clientId: '00112233aabbccdd', clientName: 'x'.repeat(201) }),
    ValidationError,
  );
  assert.throws(() => encodeHello({ protocol: PROTOCOL_NAME, version: 1, pid: -3, clientId: '00112233aabbccdd' }), ValidationError);
});

test('a body that is not UTF-8 or not JSON is a protocol error naming where the JSON starts', () => {
  for (const body of [Uint8Array.of(0x7b, 0xff, 0x7d), Buffer.from('{"protocol":', 'utf8'), new Uint8Array(0), Buffer.from('1 2')]) {
    assert.throws(
      () => decodeHello(body),
      (error: unknown) => error instanceof ProtocolError && error.frameOffset === FRAME_HEADER_BYTES,
    );
  }
});

test('WELCOME round trips and holds the server pid, client id, durability and value limit', () => {
  const welcome = fc.record({
    protocol: fc.constant(PROTOCOL_NAME),
    version: fc.constant(PROTOCOL_VERSION),
    writerPid: fc.integer({ min: 1, max: 2 ** 31 }),
    connectionId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    lastSequence: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    recoveredSequence: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    durability: fc.constantFrom('fsync' as const, 'write' as const, 'none' as const),
    maxValueBytes: fc.integer({ min: 1, max: 2 ** 28 }),
  });
  fc.assert(
    fc.property(welcome, (sent: Welcome) => {
      const frame = onlyFrame(encodeWelcome(sent));
      assert.equal(frame.type, FrameType.welcome);
      assert.deepEqual(decodeWelcome(frame.body), plain(sent));
    }),
    { numRuns: RUNS },
  );
});

test('a WELCOME of another version, another durability or with an extra field is a protocol error', () => {
  const good = {
    protocol: PROTOCOL_NAME,
    version: 1,
    writerPid: 1,
    connectionId: 1,
    lastSequence: 0,
    recoveredSequence: 0,
    durability: 'write',
    maxValueBytes: 10,
  };
  assert.deepEqual(decodeWelcome(json(good)), good);
  for (const change of [
    { version: 2 },
    { durability: 'sometimes' },
    { connectionId: 0 },
    { lastSequence: -1 },
    { recoveredSequence: 1.5 },
    { maxValueBytes: 0 },
    { extra: 1 },
  ]) {
    assert.throws(() => decodeWelcome(json({ ...good, ...change })), ProtocolError, JSON.stringify(change));
  }
});

test('REFUSED round trips, and one from a later version with more fields still decodes', () => {
  const refused = {
    code: 'SILT_PROTOCOL_VERSION',
    message: 'this writer speaks version 1; the client asked for 2',
    supportedVersions: [1],
  };
  const frame = onlyFrame(encodeRefused(refused));
  assert.equal(frame.type, FrameType.refused);
  assert.deepEqual(decodeRefused(frame.body), refused);
  assert.deepEqual(decodeRefused(json({ ...refused, retryAfterMs: 5 })), refused);
  assert.throws(() => decodeRefused(json({ ...refused, supportedVersions: ['1'] })), ProtocolError);
});
