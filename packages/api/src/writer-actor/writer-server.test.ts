import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { nodeFileSystem, WAL_DIRECTORY } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { findUnansweredWrites } from './unanswered-writes.js';
import { Index } from '../index-handle.js';
import { verifyIndex } from '../verify-index.js';
import { writerStats } from '../test-support/writer-stats.js';
import { FrameReader } from './frame-reader.js';
import { encodeHello, PROTOCOL_NAME } from './handshake.js';
import { SocketAddress } from './socket-address.js';
import { decodeServerMessage, type ServerMessage } from './wire-messages.js';
import { encodeWrites } from './writes-frame-builder.js';
import { cutAt, SOAK, writeRequestInputs } from './test-support/wire-arbitraries.js';
import { EventEmitter } from 'node:events';
import { systemClock } from '@silt/fs';
import { IndexWriter } from '../index-writer.js';
import { resolveIndexOptions } from '../index-options.js';
import { WriterServer } from './writer-server.js';
import type { ConnectionLimits } from './served-connection.js';
import type { WriteRequestInput } from './writes-frame-builder.js';

const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;
const CLIENT_ID = '0123456789abcdef';
const hello = (version = 1): Uint8Array => encodeHello({ protocol: PROTOCOL_NAME, version, pid: process.pid, clientId: CLIENT_ID });

/**
 * Sends `chunks` to the writer's socket one write at a time, half-closes,
 * and collects what the writer answered until it closed. A frame the
 * client cannot decode fails the test: the writer must only ever send
 * well-formed frames.
 */
async function exchange(directory: string, chunks: readonly Uint8Array[], answers = 0): Promise<ServerMessage[]> {
  const address = SocketAddress.of(directory);
  const socket = createConnection(address.path);
  const frames = new FrameReader();
  const messages: ServerMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', () => {
        for (const chunk of chunks) socket.write(chunk);
        if (answers === 0) socket.end();
      });
      socket.on('data', (chunk: Buffer) => {
        for (const frame of frames.push(chunk)) messages.push(decodeServerMessage(frame));
        if (answers > 0 && answered(messages) >= answers) socket.end();
      });
      socket.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
      );
      socket.on('close', () => resolve());
    });
  } finally {
    address.close();
  }
  return messages;
}

/** Requests answered: each ack, FAILED or DONE, and a REFUSED or PROTOCOL_ERROR as one. */
function answered(messages: readonly ServerMessage[]): number {
  return messages.reduce(
    (total, message) => total + (message.type === 'acks' ? message.acks.length : message.type === 'welcome' ? 0 : 1),
    0,
  );
}

test('bytes that break the wire format are answered with PROTOCOL_ERROR and a closed connection; the writer serves on', async () => {
  const dir = join(tempDir('server-bad-frames'), 'idx');
  const writer = await Index.open(dir, NO_TIMER);
  const client = await Index.open(dir, NO_TIMER);
  try {
    const zeroLength = await exchange(dir, [Uint8Array.of(0, 0, 0, 0, 1)]);
    assert.deepEqual(
      zeroLength.map((message) => message.type),
      ['protocolError'],
    );
    const writesFirst = await exchange(dir, [encodeWrites([{ requestId: 1, kind: 'clear', range: {} }])]);
    assert.deepEqual(
      writesFirst.map((message) => message.type),
      ['protocolError'],
    );
    const message = writesFirst[0]!;
    assert.ok(message.type === 'protocolError' && /first frame must be HELLO/.test(message.error.message));
    await client.set('still', 'served');
    assert.equal(writer.get('still'), 'served');
  } finally {
    await client.close();
    await writer.close();
  }
});

test('a client of another protocol version is REFUSED with the versions the writer speaks', async () => {
  const dir = join(tempDir('server-version'), 'idx');
  const writer = await Index.open(dir, NO_TIMER);
  try {
    const answer = await exchange(dir, [hello(2)]);
    assert.equal(answer.length, 1);
    const refused = answer[0]!;
    assert.ok(refused.type === 'refused');
    assert.equal(refused.refused.code, 'SILT_PROTOCOL_VERSION');
    assert.deepEqual(refused.refused.supportedVersions, [1]);
  } finally {
    await writer.close();
  }
});

test('a pipelined WRITES frame is answered request by request, and the log names each write by client and request', async () => {
  const dir = join(tempDir('server-acks'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8', maxValueBytes: 16 });
  try {
    const writes = encodeWrites([
      { requestId: 7, kind: 'batch', entries: [{ kind: 'put', key: 'a', value: '1' }] },
      {
        requestId: 8,
        kind: 'batch',
        entries: [
          { kind: 'put', key: 'b', value: Uint8Array.of(1, 2) },
          { kind: 'delete', key: 'a' },
        ],
      },
      { requestId: 9, kind: 'batch', entries: [{ kind: 'put', key: 'c', value: 'longer than the writer takes' }] },
    ]);
    const answer = await exchange(dir, [hello(), writes], 3);
    const acks = answer.flatMap((message) => (message.type === 'acks' ? message.acks : []));
    const failed = answer.filter((message) => message.type === 'failed');
    assert.deepEqual(acks, [
      { requestId: 7, sequence: 1 },
      { requestId: 8, sequence: 3 },
    ]);
    assert.equal(failed.length, 1);
    assert.ok(failed[0]!.type === 'failed' && failed[0]!.requestId === 9 && failed[0]!.failure.code === 'SILT_VALIDATION');
    assert.equal(writer.get('a'), undefined);
    assert.deepEqual(writerStats(writer).lastSequence, 3);
    const found = findUnansweredWrites(nodeFileSystem, join(dir, WAL_DIRECTORY), Buffer.from(CLIENT_ID, 'hex'), [7, 8, 9], 1, 3);
    assert.deepEqual(found, {
      kind: 'read',
      applied: new Map([
        [7, 1],
        [8, 3],
      ]),
    });
  } finally {
    await writer.close();
  }
});

const randomBytes = fc.uint8Array({ minLength: 0, maxLength: 200 }).map((bytes) => [bytes]);
/** A good HELLO and WRITES, then cut anywhere and some bytes flipped: frames that are almost right. */
const damagedWrites = fc
  .tuple(
    writeRequestInputs,
    fc.array(fc.nat(), { maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
  )
  .map(([requests, cuts, flips]) => {
    const stream = Buffer.concat([hello(), encodeWrites(requests.map((request) => ({ ...request })))]);
    for (const [at, xor] of flips) stream[at % stream.length]! ^= xor;
    const end = cuts.length > 0 ? cuts[0]! % (stream.length + 1) : stream.length;
    return cutAt(stream.subarray(0, end), cuts.slice(1));
  });

test('protocol fuzzing: random, truncated and damaged frames never crash the writer, and the index stays sound', async () => {
  const dir = join(tempDir('server-fuzz'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  try {
    await fc.assert(
      fc.asyncProperty(fc.oneof(randomBytes, damagedWrites), async (chunks) => {
        const answer = await exchange(dir, chunks);
        assert.ok(answer.every((message) => message.type !== 'welcome' || message.welcome.writerPid === process.pid));
      }),
      { numRuns: SOAK ? 3000 : 150 },
    );
    const client = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
    await client.set('after-fuzz', 'served');
    await client.close();
    assert.equal(writer.get('after-fuzz'), 'served');
    await writer.flush();
  } finally {
    await writer.close();
  }
  const report = await verifyIndex(dir);
  assert.ok(report.ok, 'every checksum and count verifies after the fuzzing');
  const reopened = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  try {
    assert.equal(reopened.get('after-fuzz'), 'served');
  } finally {
    await reopened.close();
  }
});

/** A writer and its server with `limits`, outside any `Index`, so a test can make the limits small. */
async function serveWith(dir: string, limits: ConnectionLimits): Promise<{ writer: IndexWriter<unknown>; server: WriterServer }> {
  const writer = await IndexWriter.open(dir, resolveIndexOptions(NO_TIMER), systemClock, new EventEmitter());
  const server = await WriterServer.listen(dir, writer, { durability: 'write', maxValueBytes: 1024 }, limits);
  return { writer, server };
}

/** `count` single-key writes, numbered from `first`, in frames of 1,000. */
function writeFrames(first: number, count: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let start = first; start < first + count; start += 1000) {
    const requests: WriteRequestInput[] = [];
    for (let id = start; id < Math.min(start + 1000, first + count); id++) {
      requests.push({ requestId: id, kind: 'batch', entries: [{ kind: 'put', key: `k${id}`, value: 'v' }] });
    }
    frames.push(encodeWrites(requests));
  }
  return frames;
}

test('a client with more requests in flight than its limit is held back, not refused: every one is acknowledged', async () => {
  const dir = join(tempDir('server-in-flight'), 'idx');
  const { writer, server } = await serveWith(dir, {
    maxInFlightRequests: 16,
    maxInFlightBytes: 4096,
    maxUnreadReplyBytes: 64 * 1024 * 1024,
  });
  try {
    const answer = await exchange(dir, [hello(), ...writeFrames(1, 5000)], 5000);
    const acks = answer.flatMap((message) => (message.type === 'acks' ? message.acks : []));
    assert.equal(acks.length, 5000);
    assert.deepEqual(
      acks.map((ack) => ack.requestId),
      Array.from({ length: 5000 }, (_, i) => i + 1),
      'answered in order',
    );
    assert.equal(writer.get('k5000'), 'v');
  } finally {
    await server.close();
    await writer.close();
  }
});

test('a client that stops reading its answers is cut off, and the writer serves the others', { timeout: 120_000 }, async () => {
  const dir = join(tempDir('server-unread'), 'idx');
  const { writer, server } = await serveWith(dir, {
    maxInFlightRequests: 100_000,
    maxInFlightBytes: 64 * 1024 * 1024,
    maxUnreadReplyBytes: 4096,
  });
  const address = SocketAddress.of(dir);
  const silent = createConnection(address.path);
  try {
    // Only the writer can end this socket: its writes fail (EPIPE) once the writer cut it off.
    const cutOff = new Promise<void>((resolve) => silent.on('error', () => undefined).on('close', () => resolve()));
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    silent.pause(); // reads nothing from now on
    for (const frame of [hello(), ...writeFrames(1, 60_000)]) silent.write(frame);
    await cutOff;
    const answer = await exchange(dir, [hello(), ...writeFrames(70_000, 10)], 10);
    assert.equal(
      answer.filter((message) => message.type === 'acks').flatMap((message) => (message.type === 'acks' ? message.acks : [])).length,
      10,
    );
  } finally {
    silent.destroy();
    address.close();
    await server.close();
    await writer.close();
  }
});
