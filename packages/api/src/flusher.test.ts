import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFileSystem } from '@silt/fs';
import type { FlushRequest, FlushResult } from '@silt/merger';
import type { Generation, ManifestChange } from '@silt/segments';
import { Flusher, type FlusherHost } from './flusher.js';
import { Memtable } from './memtable.js';

/** A promise settled from outside. */
class Deferred<T> {
  private settle: { resolve: (value: T) => void; reject: (error: Error) => void } | undefined;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.settle = { resolve, reject };
  });

  resolve(value: T): void {
    this.settle!.resolve(value);
  }

  reject(error: Error): void {
    this.settle!.reject(error);
  }
}

/** A sealed table over sequences `from..to`, large enough to be built in the worker pool. */
function tableOf(from: number, to: number): Memtable {
  const table = new Memtable();
  for (let sequence = from; sequence <= to; sequence++) {
    table.apply(sequence, { kind: 'put', id: `key-${sequence}`, value: 'v'.repeat(40_000), valueBytes: 40_000 });
  }
  return table;
}

function resultOf(request: FlushRequest): FlushResult {
  const key = new TextEncoder().encode(`key-${request.fromSequence}`);
  return {
    path: request.segmentPath,
    bytes: 1,
    entries: 1,
    tombstones: 0,
    minKey: key,
    maxKey: key,
    minSequence: request.fromSequence,
    maxSequence: request.toSequence,
  };
}

/** A host whose builds and installs finish when the test says, recording what happened in order. */
class ScriptedHost {
  readonly log: string[] = [];
  readonly builds = new Map<number, Deferred<FlushResult>>();
  readonly installs = new Map<number, Deferred<void>>();
  private nextId = 1;
  private generation = 0;
  private readonly buildStarted = new Map<number, Deferred<void>>();

  readonly host: FlusherHost = {
    layout: { walDirectory: '/nowhere/wal', segmentPath: (id) => `/nowhere/segments/${id}.seg` },
    wal: { whenWritten: () => Promise.resolve(), truncateBefore: (sequence) => this.noted(`truncate before ${sequence}`) },
    manifest: { commit: (change) => this.commit(change) },
    pool: { flush: (request) => this.flush(request) },
    segmentIds: { take: () => this.nextId++ },
    fs: nodeFileSystem,
    installed: (table) => {
      this.log.push(`install ${table.firstSequence}`);
      return this.install(table.firstSequence).promise;
    },
  };

  /** Resolves once the build of the table starting at `from` has started. */
  started(from: number): Promise<void> {
    return this.deferredIn(this.buildStarted, from).promise;
  }

  build(from: number): Deferred<FlushResult> {
    return this.deferredIn(this.builds, from);
  }

  install(from: number): Deferred<void> {
    return this.deferredIn(this.installs, from);
  }

  private flush(request: FlushRequest): Promise<FlushResult> {
    this.log.push(`build ${request.fromSequence}`);
    this.deferredIn(this.buildStarted, request.fromSequence).resolve();
    return this.build(request.fromSequence).promise;
  }

  private commit(change: ManifestChange): Generation {
    const added = change.add![0]!;
    this.log.push(`commit ${added.minSequence}`);
    return { generation: ++this.generation, walCoveredSequence: added.maxSequence, segments: [], committedAt: 0 };
  }

  private noted(line: string): Promise<void> {
    this.log.push(line);
    return Promise.resolve();
  }

  private deferredIn<T>(map: Map<number, Deferred<T>>, key: number): Deferred<T> {
    let deferred = map.get(key);
    if (deferred === undefined) map.set(key, (deferred = new Deferred<T>()));
    return deferred;
  }
}

const request = (from: number, to: number): FlushRequest => ({
  walDirectory: '/nowhere/wal',
  fromSequence: from,
  toSequence: to,
  segmentPath: '',
});

/** Lets every promise callback that can run, run: a turn of the event loop, not a wait for time. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the next table builds while the one before it commits and loads; commits stay in sequence order', async () => {
  const scripted = new ScriptedHost();
  const flusher = new Flusher(scripted.host);
  const first = flusher.enqueue(tableOf(1, 3));
  const second = flusher.enqueue(tableOf(4, 6));
  await scripted.started(1);
  scripted.build(1).resolve(resultOf(request(1, 3)));
  // The first is installing (held), and the second builds meanwhile (a serial flusher would wait here).
  await settled();
  assert.deepEqual(scripted.log, ['build 1', 'commit 1', 'install 1', 'build 4']);
  scripted.build(4).resolve(resultOf(request(4, 6)));
  await settled();
  assert.deepEqual(scripted.log, ['build 1', 'commit 1', 'install 1', 'build 4'], 'the second commits only after the first is in');
  scripted.install(1).resolve();
  await first;
  scripted.install(4).resolve();
  await second;
  assert.deepEqual(scripted.log, [
    'build 1',
    'commit 1',
    'install 1',
    'build 4',
    'truncate before 4',
    'commit 4',
    'install 4',
    'truncate before 7',
  ]);
  assert.equal(flusher.flushes, 2);
});

test('a failed build fails every flush queued after it: none of them builds or commits', async () => {
  const scripted = new ScriptedHost();
  const flusher = new Flusher(scripted.host);
  const flushes = [flusher.enqueue(tableOf(1, 2)), flusher.enqueue(tableOf(3, 4)), flusher.enqueue(tableOf(5, 6))];
  await scripted.started(1);
  const failure = new Error('disk full');
  scripted.build(1).reject(failure);
  for (const flushed of flushes) await assert.rejects(flushed, (error) => error === failure);
  await assert.rejects(flusher.idle(), (error) => error === failure);
  assert.deepEqual(scripted.log, ['build 1']);
  assert.equal(flusher.flushes, 0);
});

test('a failed install stops the commits after it, even of a segment already built', async () => {
  const scripted = new ScriptedHost();
  const flusher = new Flusher(scripted.host);
  const first = flusher.enqueue(tableOf(1, 2));
  const second = flusher.enqueue(tableOf(3, 4));
  await scripted.started(1);
  scripted.build(1).resolve(resultOf(request(1, 2)));
  await scripted.started(3);
  scripted.build(3).resolve(resultOf(request(3, 4)));
  const failure = new Error('segment unreadable');
  scripted.install(1).reject(failure);
  await assert.rejects(first, (error) => error === failure);
  await assert.rejects(second, (error) => error === failure);
  // The second segment was built but never committed: the log still holds its writes, and the
  // next open proves its file obsolete (index-recovery.test.ts).
  assert.deepEqual(scripted.log, ['build 1', 'commit 1', 'install 1', 'build 3']);
});
