import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameReader, type Frame } from './frame-reader.js';
import { FrameType } from './frame-types.js';
import { ProtocolError } from './protocol-error.js';
import { decodeCommand, decodeWrites, type WriterCommand } from './write-requests.js';
import { encodeCommand } from './write-requests.js';
import { encodeWrites } from './writes-frame-builder.js';
import { cutAt, plainRequest, plainRequestInput, requestId, RUNS, writeRequestInputs } from './test-support/wire-arbitraries.js';

function onlyFrame(bytes: Uint8Array): Frame {
  const frames = new FrameReader().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

/** A WRITES body assembled by hand, for the decoder's refusals. */
function body(...parts: (number | number[])[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) bytes.push(...(Array.isArray(part) ? part : [part]));
  return Uint8Array.from(bytes);
}
const u32 = (value: number): number[] => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];

function assertProtocolError(run: () => unknown, pattern: RegExp, frameOffset?: number): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.match(error.message, pattern);
    if (frameOffset !== undefined) assert.equal(error.frameOffset, frameOffset);
    return true;
  });
}

test('any mix of batches and clears decodes to the requests encoded: keys, values, text or bytes, bounds, limit, reverse', () => {
  fc.assert(
    fc.property(writeRequestInputs, (requests) => {
      const frame = onlyFrame(encodeWrites(requests));
      assert.equal(frame.type, FrameType.writes);
      assert.deepEqual(decodeWrites(frame.body).map(plainRequest), requests.map(plainRequestInput));
    }),
    { numRuns: RUNS },
  );
});

test('many WRITES frames in one stream, cut anywhere, decode to their requests in order', () => {
  fc.assert(
    fc.property(fc.array(writeRequestInputs, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((requests) => encodeWrites(requests)));
      const reader = new FrameReader();
      const decoded: unknown[] = [];
      for (const chunk of cutAt(stream, cuts)) {
        for (const frame of reader.push(chunk)) decoded.push(decodeWrites(frame.body).map(plainRequest));
      }
      assert.deepEqual(
        decoded,
        frames.map((requests) => requests.map(plainRequestInput)),
      );
    }),
    { numRuns: RUNS / 3 },
  );
});

test('a string value is a text put; bytes are text only when valueIsText says so', () => {
  const frame = onlyFrame(
    encodeWrites([
      {
        requestId: 1,
        kind: 'batch',
        entries: [
          { kind: 'put', key: 'a', value: 'x' },
          { kind: 'put', key: 'b', value: Uint8Array.of(1) },
          { kind: 'put', key: 'c', value: Uint8Array.of(1), valueIsText: true },
          { kind: 'put', key: 'd', value: '', valueIsText: false },
        ],
      },
    ]),
  );
  const [request] = decodeWrites(frame.body);
  assert.ok(request?.kind === 'batch');
  assert.deepEqual(
    request.entries.map((entry) => entry.kind === 'put' && entry.valueIsText),
    [true, false, true, true],
  );
});

test('decoded keys and values are views into the frame body', () => {
  const frame = onlyFrame(encodeWrites([{ requestId: 9, kind: 'batch', entries: [{ kind: 'put', key: 'key', value: 'value' }] }]));
  const [request] = decodeWrites(frame.body);
  assert.ok(request?.kind === 'batch' && request.entries[0]?.kind === 'put');
  assert.equal(request.entries[0].key.buffer, frame.body.buffer);
  assert.equal(request.entries[0].value.buffer, frame.body.buffer);
});

test('a clear with no options present clears everything and decodes to an empty range', () => {
  const frame = onlyFrame(encodeWrites([{ requestId: 3, kind: 'clear', range: {} }]));
  assert.deepEqual(decodeWrites(frame.body), [{ requestId: 3, kind: 'clear', range: {} }]);
  assert.equal(frame.body.length, 4 + 6);
});

test('WRITES refusals: zero or impossible counts, unknown kinds, empty keys, bit 7, truncation, trailing bytes', () => {
  const del = [3, ...u32(1), 0x61];
  assertProtocolError(() => decodeWrites(body(u32(0))), /request count is 0/, 5);
  assertProtocolError(
    () => decodeWrites(body(u32(0xffff_ffff), new Array(16).fill(0))),
    /request count 4294967295 cannot fit the 16 bytes/,
    5,
  );
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 3, 0)), /request kind 3 is unknown/, 13);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 1, u32(0xffff_ffff), del)), /entry count 4294967295 cannot fit/, 14);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 1, u32(1), 4, u32(1), 0x61)), /entry kind 4 is unknown/, 18);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 1, u32(1), 3, u32(0), 0)), /key length is 0/, 19);
  assertProtocolError(
    () => decodeWrites(body(u32(1), u32(7), 1, u32(1), 1, u32(1), u32(0xffff_ffff), 0x61)),
    /value needs 4294967295 bytes/,
  );
  assertProtocolError(
    () => decodeWrites(body(u32(1), u32(7), 1, u32(1), 3, u32(3), 0x61, 0)),
    /key needs 3 bytes and the frame has 2 left/,
  );
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 1, u32(1), del, 0)), /1 bytes are left after the last field/);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 2, 0x80)), /bit 7 set/, 14);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 2, 0x01, u32(5), 0x61)), /gt needs 5 bytes/);
  assertProtocolError(() => decodeWrites(body(u32(1), u32(7), 2, 0x20, 0, 0)), /limit needs 4 bytes/);
  assertProtocolError(() => decodeWrites(body(u32(2), u32(7), 1, u32(1), del)), /request id needs 4 bytes/);
  assertProtocolError(() => decodeWrites(new Uint8Array(0)), /request count needs 4 bytes/, 5);
});

test('commands round trip: flush, forceMerge with its maxSegments, mergesIdle', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.record({ requestId, command: fc.constant('flush' as const) }),
        fc.record({ requestId, command: fc.constant('forceMerge' as const), maxSegments: fc.integer({ min: 1, max: 0xffff_ffff }) }),
        fc.record({ requestId, command: fc.constant('mergesIdle' as const) }),
      ),
      (command: WriterCommand) => {
        const frame = onlyFrame(encodeCommand(command));
        assert.equal(frame.type, FrameType.command);
        assert.deepEqual(decodeCommand(frame.body), { ...command });
      },
    ),
    { numRuns: RUNS },
  );
});

test('COMMAND refusals: unknown command, forceMerge of 0 segments, an argument where none belongs, wrong length', () => {
  assertProtocolError(() => decodeCommand(body(u32(1), 4, u32(0))), /command 4 is unknown/, 9);
  assertProtocolError(() => decodeCommand(body(u32(1), 2, u32(0))), /maxSegments is 0/, 10);
  assertProtocolError(() => decodeCommand(body(u32(1), 1, u32(5))), /argument is 5/, 10);
  assertProtocolError(() => decodeCommand(body(u32(1), 1, u32(0), 0)), /left after the last field/);
  assertProtocolError(() => decodeCommand(body(u32(1), 1)), /argument needs 4 bytes/);
});

test('encodeCommand refuses what the wire cannot carry with a ValidationError', () => {
  for (const command of [
    { requestId: -1, command: 'flush' },
    { requestId: 2 ** 32, command: 'flush' },
    { requestId: 1, command: 'forceMerge', maxSegments: 0 },
    { requestId: 1, command: 'forceMerge', maxSegments: 2 ** 32 },
    { requestId: 1, command: 'compact' },
  ]) {
    assert.throws(() => encodeCommand(command as WriterCommand), { code: 'SILT_VALIDATION' });
  }
});
