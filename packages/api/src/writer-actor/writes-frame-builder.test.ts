import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import type { WalEntryInput } from '@silt/wal';
import { FrameReader } from './frame-reader.js';
import { MAX_FRAME_BYTES } from './frame-types.js';
import { decodeWrites } from './write-requests.js';
import { encodeWrites, WritesFrameBuilder, type ClearRangeInput } from './writes-frame-builder.js';
import { plainRequest, plainRequestInput, RUNS, writeRequestInputs } from './test-support/wire-arbitraries.js';

function decodedFrame(frame: Uint8Array): unknown[] {
  const frames = new FrameReader().push(frame);
  assert.equal(frames.length, 1);
  return decodeWrites(frames[0]!.body).map(plainRequest);
}

/** Bytes of a batch of one put request: id, kind, count, entry head, key, value. */
const putRequestBytes = (keyBytes: number, valueBytes: number): number => 4 + 1 + 4 + 9 + keyBytes + valueBytes;

test('one builder makes frame after frame, each with only the requests added since the last finish', () => {
  fc.assert(
    fc.property(fc.array(writeRequestInputs, { minLength: 1, maxLength: 4 }), (frames) => {
      const builder = new WritesFrameBuilder();
      for (const requests of frames) {
        for (const request of requests) {
          if (request.kind === 'batch') builder.addBatch(request.requestId, request.entries);
          else builder.addClear(request.requestId, request.range);
        }
        assert.equal(builder.requestCount, requests.length);
        const frame = builder.finish();
        assert.equal(builder.byteLength, 9, 'finish starts a new frame: header and request count only');
        assert.equal(builder.requestCount, 0);
        assert.deepEqual(decodedFrame(frame), requests.map(plainRequestInput));
      }
    }),
    { numRuns: RUNS / 3 },
  );
});

test('byteLength is the size of the frame finish returns', () => {
  const builder = new WritesFrameBuilder();
  builder.addBatch(1, [{ kind: 'put', key: 'k', value: 'v😀' }]);
  builder.addClear(2, { prefix: 'p', limit: 3 });
  const expected = builder.byteLength;
  assert.equal(builder.finish().length, expected);
});

test('a frame finish returned is never written again, small or large', () => {
  const builder = new WritesFrameBuilder();
  for (const valueBytes of [10, 100_000]) {
    builder.addBatch(1, [{ kind: 'put', key: 'k', value: new Uint8Array(valueBytes).fill(1) }]);
    const frame = builder.finish();
    const copy = Buffer.from(frame);
    builder.addBatch(2, [{ kind: 'put', key: 'other', value: new Uint8Array(valueBytes).fill(2) }]);
    builder.addBatch(3, [{ kind: 'delete', key: 'x' }]);
    builder.finish();
    assert.ok(copy.equals(frame), `the ${valueBytes}-byte value's frame changed`);
  }
});

test('a batch that would take the frame past MAX_FRAME_BYTES is a ValidationError and leaves the frame as it was', () => {
  const builder = new WritesFrameBuilder();
  builder.addBatch(1, [{ kind: 'put', key: 'a', value: new Uint8Array(MAX_FRAME_BYTES / 2) }]);
  const before = builder.byteLength;
  assert.throws(() => builder.addBatch(2, [{ kind: 'put', key: 'b', value: new Uint8Array(MAX_FRAME_BYTES / 2) }]), ValidationError);
  assert.throws(() => builder.addBatch(2, [{ kind: 'put', key: 'b', value: 'x'.repeat(MAX_FRAME_BYTES / 2) }]), ValidationError);
  assert.throws(() => builder.addClear(2, { prefix: new Uint8Array(MAX_FRAME_BYTES / 2) }), ValidationError);
  assert.equal(builder.byteLength, before);
  assert.equal(builder.requestCount, 1);
  builder.addBatch(3, [{ kind: 'delete', key: 'c' }]);
  const decoded = decodedFrame(builder.finish());
  assert.deepEqual(
    decoded.map((request) => (request as { requestId: number }).requestId),
    [1, 3],
  );
});

test('a frame of exactly MAX_FRAME_BYTES is built and read; one byte more is refused', () => {
  // length field = type byte + request count + the request.
  const valueBytes = MAX_FRAME_BYTES - 1 - 4 - putRequestBytes(1, 0);
  const builder = new WritesFrameBuilder();
  assert.throws(() => builder.addBatch(1, [{ kind: 'put', key: 'k', value: new Uint8Array(valueBytes + 1) }]), ValidationError);
  assert.equal(builder.requestCount, 0);
  builder.addBatch(1, [{ kind: 'put', key: 'k', value: new Uint8Array(valueBytes) }]);
  const frame = builder.finish();
  assert.equal(frame.length, 4 + MAX_FRAME_BYTES);
  const frames = new FrameReader().push(frame);
  assert.equal(frames.length, 1);
  const [request] = decodeWrites(frames[0]!.body);
  assert.ok(request?.kind === 'batch' && request.entries[0]?.kind === 'put');
  assert.equal(request.entries[0].value.length, valueBytes);
});

test('keyBytes and valueBytes size the entry; a string that does not encode to them is refused and the frame left as it was', () => {
  const builder = new WritesFrameBuilder();
  builder.addBatch(1, [{ kind: 'put', key: 'é', value: '日本', keyBytes: 2, valueBytes: 6 }]);
  const before = Buffer.from(builder.finish());
  const wrong: WalEntryInput[][] = [
    [{ kind: 'put', key: 'é', value: 'v', keyBytes: 1 }],
    [{ kind: 'put', key: 'é', value: 'v', keyBytes: 3 }],
    [{ kind: 'put', key: 'k', value: 'longer than said', valueBytes: 6 }],
    [{ kind: 'put', key: 'k', value: '😀', valueBytes: 2 }],
    [{ kind: 'delete', key: 'abc', keyBytes: 2 }],
    [{ kind: 'delete', key: Uint8Array.of(1, 2), keyBytes: 3 }],
    [{ kind: 'put', key: 'k', value: 'v', valueBytes: -1 }],
    [{ kind: 'put', key: 'k', value: 'v', valueBytes: 0.5 }],
    [{ kind: 'put', key: 'k', value: 'v', valueBytes: NaN }],
  ];
  builder.addBatch(1, [{ kind: 'put', key: 'é', value: '日本', keyBytes: 2, valueBytes: 6 }]);
  for (const entries of wrong) {
    assert.throws(() => builder.addBatch(2, [{ kind: 'delete', key: 'first' }, ...entries]), ValidationError, JSON.stringify(entries));
  }
  assert.ok(before.equals(builder.finish()));
});

test('refuses what the decoder would refuse: empty keys, empty batches, bad kinds and request ids', () => {
  const builder = new WritesFrameBuilder();
  const bad: [number, unknown][] = [
    [1, []],
    [1, [{ kind: 'put', key: '', value: 'v' }]],
    [1, [{ kind: 'delete', key: new Uint8Array(0) }]],
    [1, [{ kind: 'merge', key: 'k', value: 'v' }]],
    [1, [{ kind: 'put', key: 5, value: 'v' }]],
    [1, [{ kind: 'put', key: 'k', value: null }]],
    [1, [null]],
    [-1, [{ kind: 'delete', key: 'k' }]],
    [2 ** 32, [{ kind: 'delete', key: 'k' }]],
    [1.5, [{ kind: 'delete', key: 'k' }]],
  ];
  for (const [requestId, entries] of bad) {
    assert.throws(() => builder.addBatch(requestId, entries as WalEntryInput[]), ValidationError, JSON.stringify(entries));
  }
  assert.equal(builder.requestCount, 0);
  assert.throws(() => builder.finish(), ValidationError);
});

test('a clear takes Index.clear options: Infinity is no limit; unknown options and limits the wire cannot carry are refused', () => {
  const builder = new WritesFrameBuilder();
  builder.addClear(1, { gte: 'a', limit: Infinity, reverse: false });
  assert.deepEqual(decodedFrame(builder.finish()), [{ requestId: 1, clear: { gte: [0x61] } }]);
  const bad: unknown[] = [{ limit: -1 }, { limit: 2 ** 32 }, { limit: 1.5 }, { reverse: 'yes' }, { gte: 5 }, { start: 'a' }, null];
  for (const range of bad) assert.throws(() => builder.addClear(1, range as ClearRangeInput), ValidationError, JSON.stringify(range));
  assert.equal(builder.requestCount, 0);
});

test('encodeWrites makes the frame a builder makes', () => {
  const entries: WalEntryInput[] = [{ kind: 'put', key: 'k', value: 'v' }];
  const range: ClearRangeInput = { lt: Uint8Array.of(9), reverse: true };
  const builder = new WritesFrameBuilder();
  builder.addBatch(5, entries);
  builder.addClear(6, range);
  const built = Buffer.from(builder.finish());
  assert.ok(
    built.equals(
      encodeWrites([
        { requestId: 5, kind: 'batch', entries },
        { requestId: 6, kind: 'clear', range },
      ]),
    ),
  );
});
