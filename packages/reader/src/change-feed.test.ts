import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFileSystem, SiltError, ValidationError, type FileSystem, type OpenMode } from '@silt/fs';
import { type KeyEncoding } from '@silt/segments';
import { LogTail, WriteAheadLog, type DecodedRecord, type WalEntryInput } from '@silt/wal';
import { tempDir } from '@silt/test-support';
import { ChangeFeed, type ChangeSubscription } from './change-feed.js';
import { AbortError, ChangesTooOldError } from './change-feed-errors.js';
import type { Change } from './record-changes.js';

/** A log being written, and a feed on it woken by the log's acknowledgements, as the writer's `Index.changes` wires it. */
interface Fixture {
  readonly wal: WriteAheadLog;
  readonly feed: ChangeFeed;
  /** Wake listeners subscribed now. */
  readonly listeners: () => number;
  close(): Promise<void>;
}

async function openFixture(options: { keyEncoding?: KeyEncoding; maxFileBytes?: number } = {}): Promise<Fixture> {
  const dir = tempDir('feed');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: options.maxFileBytes ?? 32 * 1024 * 1024 });
  let listeners = 0;
  const feed = new ChangeFeed({
    fs: nodeFileSystem,
    walDirectory: dir,
    keyEncoding: options.keyEncoding ?? 'utf8',
    onWake: (listener) => {
      listeners++;
      const stop = wal.onAcknowledged(() => listener());
      return () => {
        listeners--;
        stop();
      };
    },
  });
  return {
    wal,
    feed,
    listeners: () => listeners,
    close: async () => {
      feed.close();
      await wal.close();
    },
  };
}

const put = (key: string, value: string | Uint8Array = `v-${key}`): WalEntryInput => ({ kind: 'put', key, value });
const del = (key: string): WalEntryInput => ({ kind: 'delete', key });

/** The next `count` changes of a subscription. */
async function take(subscription: ChangeSubscription, count: number): Promise<Change[]> {
  const changes: Change[] = [];
  while (changes.length < count) {
    const next = await subscription.next();
    if (next.done === true) throw new Error(`the subscription ended after ${changes.length} of ${count} changes`);
    changes.push(next.value);
  }
  return changes;
}

/** A change as a short line: `3 put a=v-a`, `4 del b`. */
function describe(change: Change): string {
  const key = typeof change.key === 'string' ? change.key : `bytes(${[...change.key].join(',')})`;
  if (change.deleted === true) return `${change.sequence} del ${key}`;
  const value = typeof change.value === 'string' ? change.value : `bytes(${[...change.value].join(',')})`;
  return `${change.sequence} put ${key}=${value}`;
}

/** Every sequence number handed out, in order: each entry of a batch has its own. */
const lines = async (subscription: ChangeSubscription, count: number): Promise<string[]> => (await take(subscription, count)).map(describe);

test('a subscription yields every write after the acknowledged sequence at the call, puts and deletes, in sequence order', async () => {
  const fixture = await openFixture();
  try {
    await fixture.wal.append([put('before')]);
    const subscription = fixture.feed.changes();
    assert.equal(subscription.position, 1, 'it starts after what was acknowledged at the call');
    await fixture.wal.append([put('a'), put('b')]);
    await fixture.wal.append([del('a')]);
    await fixture.wal.append([put('c', Uint8Array.of(1, 2, 3))]);
    assert.deepEqual(await lines(subscription, 4), ['2 put a=v-a', '3 put b=v-b', '4 del a', '5 put c=bytes(1,2,3)']);
    assert.equal(subscription.position, 5);
  } finally {
    await fixture.close();
  }
});

test('values come back as written (text as strings, bytes as Uint8Arrays) and keys by the key encoding', async () => {
  const fixture = await openFixture({ keyEncoding: 'binary' });
  try {
    const subscription = fixture.feed.changes();
    await fixture.wal.append([put('ü€', 'text'), put('raw', Uint8Array.of(0, 255)), del('gone')]);
    const [text, raw, deleted] = await take(subscription, 3);
    assert.deepEqual(text!.key, new Uint8Array(Buffer.from('ü€')));
    assert.ok(text!.key instanceof Uint8Array && !Buffer.isBuffer(text!.key), 'binary keys are plain Uint8Arrays');
    assert.equal(text!.deleted === true ? undefined : text!.value, 'text');
    assert.ok(raw!.deleted !== true && raw!.value instanceof Uint8Array && !Buffer.isBuffer(raw!.value));
    assert.deepEqual(raw!.deleted === true ? undefined : raw!.value, Uint8Array.of(0, 255));
    assert.deepEqual(deleted, { key: new Uint8Array(Buffer.from('gone')), deleted: true, sequence: 3 });
  } finally {
    await fixture.close();
  }
});

test('keys and values handed over are copies: later reads into the tail buffer do not change them', async () => {
  const fixture = await openFixture({ keyEncoding: 'binary' });
  try {
    const subscription = fixture.feed.changes();
    await fixture.wal.append([put('k1', Uint8Array.of(1, 1, 1))]);
    const [first] = await take(subscription, 1);
    await fixture.wal.append([put('k2', Uint8Array.of(2, 2, 2))]);
    await take(subscription, 1);
    assert.deepEqual(first, { key: new Uint8Array(Buffer.from('k1')), value: Uint8Array.of(1, 1, 1), sequence: 1 });
  } finally {
    await fixture.close();
  }
});

test('prefix and range options filter the changes the way range() bounds its keys, entry by entry within a batch', async () => {
  const fixture = await openFixture();
  try {
    const byPrefix = fixture.feed.changes({ prefix: 'user:' });
    const closedRange = fixture.feed.changes({ gte: 'b', lt: 'd' });
    const openRange = fixture.feed.changes({ gt: 'b', lte: 'd' });
    const intersected = fixture.feed.changes({ prefix: 'user:', gt: 'user:2' });
    await fixture.wal.append([put('a'), put('b'), put('user:1'), put('c'), put('user:2'), put('d'), put('e'), put('user:3')]);
    await fixture.wal.append([del('user:1'), del('b'), del('d')]);
    assert.deepEqual(await lines(byPrefix, 4), ['3 put user:1=v-user:1', '5 put user:2=v-user:2', '8 put user:3=v-user:3', '9 del user:1']);
    assert.deepEqual(await lines(closedRange, 3), ['2 put b=v-b', '4 put c=v-c', '10 del b']);
    assert.deepEqual(await lines(openRange, 3), ['4 put c=v-c', '6 put d=v-d', '11 del d']);
    assert.deepEqual(await lines(intersected, 1), ['8 put user:3=v-user:3']);
    // Each has read all 11 writes and holds no further match.
    for (const subscription of [byPrefix, closedRange, openRange, intersected]) assert.equal(subscription.position, 11);
  } finally {
    await fixture.close();
  }
});

test('since resumes after that sequence number, also in the middle of a batch, and 0 starts at the beginning', async () => {
  const fixture = await openFixture();
  try {
    await fixture.wal.append([put('a'), put('b'), put('c')]);
    await fixture.wal.append([put('d')]);
    assert.deepEqual(await lines(fixture.feed.changes({ since: 0 }), 4), ['1 put a=v-a', '2 put b=v-b', '3 put c=v-c', '4 put d=v-d']);
    assert.deepEqual(await lines(fixture.feed.changes({ since: 2 }), 2), ['3 put c=v-c', '4 put d=v-d']);
    const caughtUp = fixture.feed.changes({ since: 4 });
    await fixture.wal.append([put('e')]);
    assert.deepEqual(await lines(caughtUp, 1), ['5 put e=v-e']);
  } finally {
    await fixture.close();
  }
});

test('since past the acknowledged sequence number is a ValidationError, and nothing is started', async () => {
  const fixture = await openFixture();
  try {
    await fixture.wal.append([put('a')]);
    assert.throws(
      () => fixture.feed.changes({ since: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /since is 2, past the last acknowledged sequence number 1/);
        return true;
      },
    );
    assert.equal(fixture.feed.subscriptions, 0);
    assert.equal(fixture.listeners(), 0);
    fixture.feed.changes({ since: 1 }).close();
  } finally {
    await fixture.close();
  }
});

test('since whose next change is no longer in the log throws ChangesTooOldError from the iteration, naming since and the oldest kept', async () => {
  const fixture = await openFixture({ maxFileBytes: 1024 });
  try {
    await fixture.wal.append([put('a')]);
    await fixture.wal.rotate();
    await fixture.wal.append([put('b')]);
    await fixture.wal.rotate();
    await fixture.wal.append([put('c')]);
    // A flush covered 1 and 2: their files go.
    await fixture.wal.truncateBefore(3);
    const kept = fixture.feed.changes({ since: 2 });
    assert.deepEqual(await lines(kept, 1), ['3 put c=v-c'], 'since 2 needs 3 only, which the log still holds');
    const subscription = fixture.feed.changes({ since: 0 });
    await assert.rejects(subscription.next(), (error: unknown) => {
      assert.ok(error instanceof ChangesTooOldError);
      assert.ok(error instanceof SiltError);
      assert.equal(error.code, 'SILT_CHANGES_TOO_OLD');
      assert.equal(error.since, 0);
      assert.equal(error.oldestAvailable, 3);
      assert.match(error.message, /changes after sequence 0 are no longer in the log \(the log now starts at sequence 3\)/);
      assert.match(error.message, /Rescan the index/);
      return true;
    });
    assert.deepEqual(await subscription.next(), { value: undefined, done: true }, 'then it has ended');
    assert.equal(subscription.closed, true);
    assert.equal(fixture.feed.subscriptions, 1, 'only the other one is left');
  } finally {
    await fixture.close();
  }
});

test('a slow subscriber whose next log file is deleted from under it gets what it still holds, then ChangesTooOldError', async () => {
  const fixture = await openFixture({ maxFileBytes: 1024 });
  try {
    const subscription = fixture.feed.changes();
    await fixture.wal.append([put('a')]);
    assert.deepEqual(await lines(subscription, 1), ['1 put a=v-a'], 'it has the first log file open');
    await fixture.wal.append([put('b')]);
    await fixture.wal.rotate();
    await fixture.wal.append([put('c')]);
    await fixture.wal.rotate();
    await fixture.wal.append([put('d')]);
    await fixture.wal.truncateBefore(4);
    // The file it holds open stays readable after its deletion; the next one is gone.
    assert.deepEqual(await lines(subscription, 1), ['2 put b=v-b']);
    await assert.rejects(subscription.next(), (error: unknown) => {
      assert.ok(error instanceof ChangesTooOldError);
      assert.equal(error.since, 2);
      assert.equal(error.oldestAvailable, 4);
      return true;
    });
    assert.equal(fixture.listeners(), 0, 'its wake listener is released');
  } finally {
    await fixture.close();
  }
});

test('bad options are a ValidationError naming the option, and nothing is started', async () => {
  const fixture = await openFixture();
  try {
    const cases: Array<[unknown, RegExp]> = [
      [{ since: -1 }, /since: Too small/],
      [{ since: 1.5 }, /since: Invalid input: expected int/],
      [{ since: '3' }, /since: Invalid input: expected number/],
      [{ prefix: 3 }, /prefix: must be a string or a Uint8Array/],
      [{ reverse: true }, /Unrecognized key: "reverse"/],
      [{ limit: 10 }, /Unrecognized key: "limit"/],
      [{ signal: 'stop' }, /signal: must be an AbortSignal/],
      [{ gte: 'a', gt: 'b' }, /give at most one of the range options gte and gt/],
      [{ lt: 'a\uD800' }, /range option 'lt'/],
      ['all', /changes\(\) options/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => fixture.feed.changes(options as never),
        (error: unknown) => error instanceof ValidationError && message.test(error.message),
        `options ${JSON.stringify(options)}`,
      );
    }
    assert.equal(fixture.feed.subscriptions, 0);
    assert.equal(fixture.listeners(), 0);
  } finally {
    await fixture.close();
  }
});

test('aborting the signal rejects the waiting next() with an AbortError carrying the reason, then the iteration is done', async () => {
  const fixture = await openFixture();
  try {
    const controller = new AbortController();
    const subscription = fixture.feed.changes({ signal: controller.signal });
    const waiting = subscription.next();
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(waiting, (error: unknown) => {
      assert.ok(error instanceof AbortError);
      assert.ok(error instanceof SiltError);
      assert.equal(error.name, 'AbortError');
      assert.equal(error.code, 'ABORT_ERR');
      assert.equal(error.cause, reason);
      return true;
    });
    assert.deepEqual(await subscription.next(), { value: undefined, done: true });
    assert.equal(fixture.listeners(), 0, 'the wake listener is released');
    assert.equal(fixture.feed.subscriptions, 0);
  } finally {
    await fixture.close();
  }
});

test('aborting while changes are read but not yet taken ends the iteration at the next next(); position says where to resume', async () => {
  const fixture = await openFixture();
  try {
    const controller = new AbortController();
    const subscription = fixture.feed.changes({ signal: controller.signal });
    await fixture.wal.append([put('a'), put('b'), put('c')]);
    assert.deepEqual(await lines(subscription, 1), ['1 put a=v-a']);
    controller.abort();
    await assert.rejects(subscription.next(), { name: 'AbortError' });
    assert.equal(subscription.position, 1, 'b and c were never handed over');
    assert.deepEqual(await lines(fixture.feed.changes({ since: subscription.position }), 2), ['2 put b=v-b', '3 put c=v-c']);
  } finally {
    await fixture.close();
  }
});

test('an already aborted signal throws the AbortError from changes() itself, as events.on does', async () => {
  const fixture = await openFixture();
  try {
    assert.throws(() => fixture.feed.changes({ signal: AbortSignal.abort('no') }), { name: 'AbortError', cause: 'no' });
    assert.equal(fixture.listeners(), 0);
  } finally {
    await fixture.close();
  }
});

test('break out of for await ends the subscription and releases its wake listener and files', async () => {
  const fixture = await openFixture();
  try {
    const subscription = fixture.feed.changes();
    await fixture.wal.append([put('a'), put('b'), put('c')]);
    const seen: string[] = [];
    for await (const change of subscription) {
      seen.push(describe(change));
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['1 put a=v-a', '2 put b=v-b']);
    assert.equal(subscription.closed, true);
    assert.equal(fixture.listeners(), 0);
    assert.equal(fixture.feed.subscriptions, 0);
    assert.deepEqual(await subscription.next(), { value: undefined, done: true });
  } finally {
    await fixture.close();
  }
});

test('close() ends a waiting iteration quietly, and closing the feed ends every subscription and refuses new ones', async () => {
  const fixture = await openFixture();
  try {
    const closed = fixture.feed.changes();
    const waiting = closed.next();
    closed.close();
    assert.deepEqual(await waiting, { value: undefined, done: true });
    const first = fixture.feed.changes({ prefix: 'a' });
    const second = fixture.feed.changes();
    const iterated = (async () => {
      const seen: string[] = [];
      for await (const change of second) seen.push(describe(change));
      return seen;
    })();
    await fixture.wal.append([put('x')]);
    fixture.feed.close();
    assert.deepEqual(await first.next(), { value: undefined, done: true });
    assert.ok((await iterated).length <= 1, 'the loop ends');
    assert.equal(fixture.listeners(), 0);
    assert.throws(() => fixture.feed.changes(), { code: 'SILT_CLOSED' });
  } finally {
    await fixture.close();
  }
});

test("a waiting subscription is woken by the acknowledgement: an idle writer's last write arrives without a later one", async () => {
  const fixture = await openFixture();
  try {
    const subscription = fixture.feed.changes();
    const waiting = subscription.next();
    await fixture.wal.append([put('only')]);
    assert.deepEqual(await waiting, { value: { key: 'only', value: 'v-only', sequence: 1 }, done: false });
  } finally {
    await fixture.close();
  }
});

test('next() called again before the last one settled waits its turn: each change once, in order', async () => {
  const fixture = await openFixture();
  try {
    const subscription = fixture.feed.changes();
    const calls = [subscription.next(), subscription.next(), subscription.next()];
    await fixture.wal.append([put('a')]);
    await fixture.wal.append([put('b'), put('c')]);
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((result) => (result.done === true ? 'done' : describe(result.value))),
      ['1 put a=v-a', '2 put b=v-b', '3 put c=v-c'],
    );
  } finally {
    await fixture.close();
  }
});

test('many log files of changes, more than one read takes, arrive whole and in order, across rotations', async () => {
  const fixture = await openFixture({ maxFileBytes: 64 * 1024 });
  try {
    const subscription = fixture.feed.changes({ since: 0 });
    const value = 'x'.repeat(2000);
    const batches = 1500; // ~3 MiB of log, three reads' worth, in ~50 files
    for (let i = 0; i < batches; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => fixture.wal.append([put(`k${i + j}`, `${i + j}:${value}`)])));
    }
    const changes = await take(subscription, batches);
    changes.forEach((change, i) => {
      assert.equal(change.sequence, i + 1);
      assert.equal(change.key, `k${i}`);
      assert.equal(change.deleted === true ? undefined : change.value, `${i}:${value}`);
    });
  } finally {
    await fixture.close();
  }
});

test("a subscription standing at the records a reader's own tail reads takes them from it without reading the log, and reads on by itself once the offers stop", async () => {
  const dir = tempDir('feed-offers');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: 64 * 1024 });
  // The reader's own tail, read by hand; its records are offered to the feed's subscriptions as a ReadOnlyIndex's follower offers them.
  const readerTail = new LogTail(nodeFileSystem, dir, 1);
  const offerListeners = new Set<(record: DecodedRecord, fileFirstSequence: number) => void>();
  const readerReads = (): void =>
    void readerTail.read((record) => {
      for (const listener of offerListeners) listener(record, readerTail.openFileFirstSequence!);
    });
  // The feed's own opens of log files, counted: the marker alone is read when every record was offered.
  let logOpens = 0;
  const countingFs: FileSystem = Object.assign(Object.create(nodeFileSystem) as FileSystem, {
    open: (path: string, mode: OpenMode) => {
      if (path.endsWith('.log')) logOpens++;
      return nodeFileSystem.open(path, mode);
    },
  });
  const feed = new ChangeFeed({
    fs: countingFs,
    walDirectory: dir,
    keyEncoding: 'utf8',
    onWake: (listener) => wal.onAcknowledged(() => listener()),
    onRecords: (listener) => {
      offerListeners.add(listener);
      return () => void offerListeners.delete(listener);
    },
  });
  try {
    const subscription = feed.changes();
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 300; i += 3) {
      await wal.append([put(`k${i}`, value), put(`k${i + 1}`, value), del(`k${i + 2}`)]);
      readerReads();
    }
    const offered = await take(subscription, 300);
    assert.deepEqual(
      offered.map((change) => change.sequence),
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    assert.equal(offered[2]!.deleted, true);
    assert.equal(logOpens, 0, 'every change came from the offers, across rotations of the log');
    // The reader stops offering (it paused, say): the subscription reads the log itself, from where the offers left it.
    offerListeners.clear();
    for (let i = 300; i < 600; i++) await wal.append([put(`k${i}`, value)]);
    const read = await take(subscription, 300);
    assert.deepEqual(
      read.map((change) => change.sequence),
      Array.from({ length: 300 }, (_, i) => i + 301),
    );
    assert.ok(logOpens > 0);
  } finally {
    feed.close();
    readerTail.close();
    await wal.close();
  }
});
