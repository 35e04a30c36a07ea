import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ValidationError, WRITER_SOCKET_FILE } from '@silt/fs';
import { LockError } from '@silt/segments';
import { tempDir, turnsUntil } from '@silt/test-support';
import { Index } from './index-handle.js';
import { ReadOnlyError, WriterChangedError } from './role-errors.js';
import { writerStats } from './test-support/writer-stats.js';

/** No flush timer: the tests' counts depend on nothing a timer does. */
const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

async function writerAndClient(dir: string, clientOptions = {}): Promise<[Index<string>, Index<string>]> {
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  const client = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8', ...clientOptions });
  return [writer, client];
}

test('a second open of one directory is a client: its writes go to the writer, and it reads each acknowledged write at once', async () => {
  const dir = join(tempDir('client-writes'), 'idx');
  const [writer, client] = await writerAndClient(dir);
  try {
    assert.equal(writer.stats().role, 'writer');
    assert.equal(client.stats().role, 'client');
    assert.equal(writerStats(writer).clients, 1);
    await client.set('a', '1');
    assert.equal(client.get('a'), '1', 'the client reads its own write as soon as it resolves');
    assert.equal(writer.get('a'), '1');
    await client.mset([
      ['b', '2'],
      ['c', '3'],
    ]);
    await client.batch([
      { type: 'put', key: 'd', value: '4' },
      { type: 'del', key: 'a' },
    ]);
    await client.batch().put('e', '5').del('b').write();
    await client.delete('c');
    assert.deepEqual(
      [...client.range()],
      [
        ['d', '4'],
        ['e', '5'],
      ],
    );
    await client.clear({ prefix: 'd' });
    assert.deepEqual([...client.range()], [['e', '5']]);
    assert.deepEqual([...writer.range()], [['e', '5']]);
    await writer.set('w', 'from the writer');
    await client.flush();
    assert.equal(writerStats(writer).flushes, 1, "the client's flush ran on the writer");
    const clientStats = client.stats();
    assert.ok(clientStats.role === 'client' && clientStats.writer.connected && clientStats.writer.pid === process.pid);
  } finally {
    await client.close();
    await writer.close();
  }
});

test("a client's own writes give way to newer writes of other processes, and it never reads one older than it read before", async () => {
  const dir = join(tempDir('client-own-writes'), 'idx');
  const [writer, client] = await writerAndClient(dir);
  try {
    await client.mset([
      ['a', 'client 1'],
      ['b', 'client 1'],
      ['c', 'client 1'],
    ]);
    assert.deepEqual(client.getMany(['a', 'b', 'c']), ['client 1', 'client 1', 'client 1'], "the client's batch, at once");
    await writer.mset([
      ['b', 'writer 2'],
      ['c', 'writer 2'],
    ]);
    await client.delete('c');
    assert.equal(client.get('c'), undefined, 'its delete is newer than the writer’s put');
    assert.equal(client.get('a'), 'client 1');
    const seen = (): string => JSON.stringify(client.getMany(['a', 'b', 'c']));
    const expected = JSON.stringify(['client 1', 'writer 2', null]);
    const before = seen();
    assert.ok(before === expected || before === JSON.stringify(['client 1', 'client 1', null]), before);
    await turnsUntil(() => seen() === expected, "the writer's newer write to b");
    await client.flush();
    assert.equal(seen(), expected, 'and after a flush moved all of it into a segment');
  } finally {
    await client.close();
    await writer.close();
  }
});

test("a write the writer refuses is the caller's error in the client too, and nothing of it is written", async () => {
  const dir = join(tempDir('client-refused'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, maxValueBytes: 1024 });
  const client = await Index.open(dir, { ...NO_TIMER, maxValueBytes: 1024 * 1024 });
  try {
    const big = 'x'.repeat(2000);
    await assert.rejects(
      client.mset([
        ['fits', 'y'],
        ['too-big', big],
      ]),
      (error: unknown) => error instanceof ValidationError && /2000 bytes; the limit is 1024/.test(error.message),
    );
    await assert.rejects(client.clear({ limit: -1 }), ValidationError);
    await client.set('after', 'z');
    assert.equal(writer.get('fits'), undefined);
    assert.equal(client.get('fits'), undefined);
    assert.equal(writerStats(writer).lastSequence, 1, 'only the write after the refusals took a sequence number');
  } finally {
    await client.close();
    await writer.close();
  }
});

test('writes in flight when the writer closes are settled from the log: each resolves once, and every one is there', async () => {
  const dir = join(tempDir('client-takeover'), 'idx');
  const [writer, client] = await writerAndClient(dir);
  try {
    await client.set('before', '0');
    const roles: string[] = [];
    client.on('role', (role) => roles.push(role));
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) writes.push(client.set(`k${i}`, `v${i}`));
    writes.push(
      client.mset([
        ['batch-a', 'a'],
        ['batch-b', 'b'],
      ]),
    );
    const closed = writer.close();
    await Promise.all(writes);
    await closed;
    assert.deepEqual(roles, ['writer']);
    assert.equal(client.stats().role, 'writer');
    for (let i = 0; i < 200; i++) assert.equal(client.get(`k${i}`), `v${i}`);
    assert.equal(client.get('batch-b'), 'b');
    const stats = writerStats(client);
    assert.equal(stats.writerChanges, 1);
    assert.equal(stats.lastSequence, 203, 'every write took one sequence number: none was applied twice');
    await client.set('after', 'the takeover');
    assert.equal(client.get('after'), 'the takeover');
  } finally {
    await client.close();
    await writer.close();
  }
});

test('two clients with writes in flight when the writer closes: one takes over, the other settles its writes with it, none lost or doubled', async () => {
  const dir = join(tempDir('two-clients-takeover'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  const clients = [
    await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' }),
    await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' }),
  ];
  try {
    const writes = clients.flatMap((client, c) => Array.from({ length: 300 }, (_, i) => client.set(`c${c}-${i}`, `v${i}`)));
    const closed = writer.close();
    const outcomes = await Promise.allSettled(writes);
    await closed;
    assert.deepEqual(
      outcomes.filter((outcome) => outcome.status === 'rejected'),
      [],
      'every write in flight was settled: found in the log, or sent again',
    );
    const newWriter = clients.find((client) => client.stats().role === 'writer')!;
    assert.equal(writerStats(newWriter).lastSequence, 600, 'each write took one sequence number');
    clients.forEach((client, c) => assert.equal(client.get(`c${c}-299`), 'v299', 'each reads its own writes'));
    for (let c = 0; c < 2; c++) assert.equal(newWriter.get(`c${c}-0`), 'v0');
  } finally {
    for (const client of clients) await client.close();
  }
});

test('a client whose writer moved to another client reconnects to it', async () => {
  const dir = join(tempDir('client-reconnect'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  const first = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  const second = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  try {
    await writer.close();
    await Promise.all([first.set('one', '1'), second.set('two', '2')]);
    const roles = [first.stats().role, second.stats().role].sort();
    assert.deepEqual(roles, ['client', 'writer']);
    for (const index of [first, second]) {
      await index.set(`again-${index.stats().role}`, 'x');
      assert.equal(index.get('one'), '1');
      assert.equal(index.get('two'), '2');
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test("role 'reader' never writes: every write is a ReadOnlyError and nothing is written", async () => {
  const dir = join(tempDir('reader-role'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8' });
  const reader = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8', role: 'reader' });
  try {
    await writer.set('a', '1');
    await writer.flush();
    await assert.rejects(reader.set('b', '2'), ReadOnlyError);
    await assert.rejects(reader.mset([['c', '3']]), ReadOnlyError);
    await assert.rejects(reader.clear(), ReadOnlyError);
    await assert.rejects(reader.flush(), ReadOnlyError);
    assert.equal(reader.stats().role, 'reader');
    assert.equal(writerStats(writer).lastSequence, 1);
  } finally {
    await reader.close();
    await writer.close();
  }
});

test("with role 'writer' and lockTimeoutMs, a would-be writer waits for the lock, and gets it once the writer closes", async () => {
  const dir = join(tempDir('lock-wait'), 'idx');
  const first = await Index.open(dir, NO_TIMER);
  await assert.rejects(Index.open(dir, { ...NO_TIMER, role: 'writer', lockTimeoutMs: 20 }), LockError);
  const waiting = Index.open(dir, { ...NO_TIMER, role: 'writer', lockTimeoutMs: 60_000 });
  await first.set('k', 'v');
  await first.close();
  const second = await waiting;
  try {
    assert.equal(second.stats().role, 'writer');
    assert.deepEqual(second.get('k'), 'v');
  } finally {
    await second.close();
  }
});

test("the writer's socket takes the index directory's permission bits", async () => {
  const dir = join(tempDir('socket-mode'), 'idx');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o750);
  const writer = await Index.open(dir, NO_TIMER);
  try {
    assert.equal(statSync(join(dir, WRITER_SOCKET_FILE)).mode & 0o777, 0o750);
  } finally {
    await writer.close();
  }
});

test('an index directory deeper than a socket path may be still takes clients', async () => {
  const dir = join(tempDir('long-path'), 'a'.repeat(60), 'b'.repeat(60), 'idx');
  assert.ok(Buffer.byteLength(join(dir, WRITER_SOCKET_FILE)) > 107);
  const [writer, client] = await writerAndClient(dir);
  try {
    await client.set('deep', 'yes');
    assert.equal(writer.get('deep'), 'yes');
  } finally {
    await client.close();
    await writer.close();
  }
});

test("a client's close waits for the writes it forwarded", async () => {
  const dir = join(tempDir('client-close'), 'idx');
  const [writer, client] = await writerAndClient(dir);
  try {
    const written = Promise.all([client.set('x', '1'), client.set('y', '2')]);
    await client.close();
    await written;
    assert.equal(writer.get('y'), '2');
  } finally {
    await writer.close();
  }
});

test('a client closing while its writer goes away does not hang: each write it sent resolves or fails with WriterChangedError', async () => {
  const dir = join(tempDir('client-close-writer-gone'), 'idx');
  const [writer, client] = await writerAndClient(dir);
  const writes = Array.from({ length: 500 }, (_, i) => client.set(`k${i}`, 'v'));
  const clientClosed = client.close();
  await writer.close();
  await clientClosed;
  const outcomes = await Promise.allSettled(writes);
  const errors = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  assert.ok(
    errors.every((error) => error instanceof WriterChangedError),
    String(errors.find((error) => !(error instanceof WriterChangedError))),
  );
});

test('an index left open, as the writer or a client, does not keep its process alive by itself', async () => {
  const dir = join(tempDir('unclosed'), 'idx');
  const child = fork(fileURLToPath(new URL('./test-support/unclosed-index-child.js', import.meta.url)), [dir], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test("a writer and a client opened with accessMode 'mmap' read mapped segments, and both say so in stats()", async () => {
  const dir = join(tempDir('mmap-roles'), 'idx');
  const writer = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8', accessMode: 'mmap' });
  try {
    await writer.set('a', '1');
    await writer.flush();
    const client = await Index.open(dir, { ...NO_TIMER, valueEncoding: 'utf8', accessMode: 'mmap' });
    try {
      assert.equal(writer.stats().accessMode, 'mmap');
      assert.equal(client.stats().role, 'client');
      assert.equal(client.stats().accessMode, 'mmap');
      assert.equal(client.get('a'), '1');
    } finally {
      await client.close();
    }
  } finally {
    await writer.close();
  }
});
