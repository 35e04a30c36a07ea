import assert from 'node:assert/strict';
import { copyFileSync, statSync, truncateSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { CorruptionError, NodeFileSystem, ValidationError, type FileHandle, type OpenMode } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { SegmentBuilder, type SegmentInput } from './segment-builder.js';
import type { KeyEncoding } from './segment-options.js';
import { SegmentReader } from './segment-reader.js';
import { newSegmentPath, SEQUENCES } from './test-support/segment-fixtures.js';
import { tempDir } from '@silt/test-support';

/** What `load` reads per event-loop turn (LOAD_SLICE_BYTES, internal to the reader). */
const SLICE_BYTES = 1024 * 1024;
/** A test that loops instead of failing should fail, not hang the run. */
const LIMIT = { timeout: 10_000 };

const dir = tempDir('load');

/**
 * About 2.4 MiB: two whole slices and a part of a third, so the first, a
 * middle and a short last slice are all read. Text (ASCII and not) and
 * byte values, tombstones, and byte keys that are not UTF-8 text.
 */
function largeEntries(): SegmentInput[] {
  const random = new SeededRandom(41);
  const entries: SegmentInput[] = [];
  for (let i = 0; i < 1075; i++) {
    const key = `key/${String(i).padStart(5, '0')}/${i % 3 === 0 ? 'été' : 'x'}`;
    if (i % 10 === 9) entries.push({ kind: 'tombstone', key });
    else if (i % 3 === 0) entries.push({ kind: 'put', key, value: random.bytes(3000 + random.intBetween(0, 200)) });
    else if (i % 3 === 1) entries.push({ kind: 'put', key, value: `ünïcödé ${i} ${'€'.repeat(1000)}` });
    else entries.push({ kind: 'put', key, value: 'a'.repeat(random.intBetween(0, 3000)) });
  }
  for (let i = 0; i < 20; i++) entries.push({ kind: 'put', key: Uint8Array.of(0xff, 0xfe, i), value: random.bytes(100) });
  return entries;
}

const entries = largeEntries();
let largePath = '';
let largeSize = 0;

before(async () => {
  largePath = newSegmentPath(dir);
  const builder = SegmentBuilder.create(largePath, SEQUENCES);
  for (const entry of entries) builder.add(entry);
  largeSize = (await builder.finish()).bytes;
  assert.ok(largeSize > 2 * SLICE_BYTES && largeSize < 3 * SLICE_BYTES, `segment of ${largeSize} bytes spans three slices`);
});

interface HandleHooks {
  /** What `size()` reports, given the real size. */
  size?(actual: number): number;
  read?(requested: number, position: number, got: number): void;
  close?(): void;
}

/** A FileHandle that reports to (and may lie for) the test. */
class WatchedHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly hooks: HandleHooks,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  size(): number {
    const actual = this.inner.size();
    return this.hooks.size?.(actual) ?? actual;
  }

  read(target: Uint8Array, position: number): number {
    const got = this.inner.read(target, position);
    this.hooks.read?.(target.length, position, got);
    return got;
  }

  write(data: Uint8Array, position: number): void {
    this.inner.write(data, position);
  }

  truncate(length: number): void {
    this.inner.truncate(length);
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  datasync(): Promise<void> {
    return this.inner.datasync();
  }

  datasyncNow(): void {
    this.inner.datasyncNow();
  }

  close(): void {
    this.hooks.close?.();
    this.inner.close();
  }
}

class WatchedFileSystem extends NodeFileSystem {
  constructor(private readonly hooks: HandleHooks) {
    super();
  }

  override open(path: string, mode: OpenMode): FileHandle {
    return new WatchedHandle(super.open(path, mode), this.hooks);
  }
}

/** Every key given, plus keys no segment holds, for point reads. */
function probeKeys(): (string | Uint8Array)[] {
  return [...entries.map((entry) => entry.key), 'key/', 'key/99999', 'zzz', Uint8Array.of(0xff, 0xfe, 200)];
}

function assertSameReader(loaded: SegmentReader<string | Uint8Array>, opened: SegmentReader<string | Uint8Array>): void {
  for (const key of probeKeys()) {
    assert.deepStrictEqual(loaded.get(key), opened.get(key));
    assert.deepStrictEqual(loaded.lookup(key), opened.lookup(key));
  }
  assert.deepStrictEqual([...loaded.entries()], [...opened.entries()]);
  assert.deepStrictEqual(loaded.stats(), opened.stats());
}

for (const keyEncoding of ['utf8', 'binary'] as const satisfies readonly KeyEncoding[]) {
  test(
    `load reads a segment larger than one slice into a memory-mode reader that answers as open's does (keyEncoding ${keyEncoding})`,
    LIMIT,
    async () => {
      using loaded = await SegmentReader.load(largePath, { keyEncoding });
      using opened = SegmentReader.open(largePath, { keyEncoding });
      assert.equal(loaded.access, 'memory');
      assert.equal(loaded.keyEncoding, keyEncoding);
      assert.equal(loaded.stats().bytes, largeSize);
      assertSameReader(loaded, opened);
      // Not just equal to open: right, so a bug shared by both does not pass unseen.
      assert.equal(loaded.stats().entries, entries.length);
      loaded.verify();
    },
  );
}

test('load in file mode opens as open does: blocks read on demand, not the whole file', LIMIT, async () => {
  let bytesRead = 0;
  const fs = new WatchedFileSystem({ read: (_requested, _position, got) => (bytesRead += got) });
  using loaded = await SegmentReader.load(largePath, { access: 'file', cacheBytes: 64 * 1024, fs });
  using opened = SegmentReader.open(largePath, { access: 'file', cacheBytes: 64 * 1024 });
  assert.equal(loaded.access, 'file');
  assert.ok(bytesRead < largeSize / 4, `load in file mode read ${bytesRead} of ${largeSize} bytes`);
  assertSameReader(loaded, opened);
});

describe('a segment file that shrinks while load reads it', () => {
  test('a file shorter than its size said is a CorruptionError naming the file, and the file is closed', LIMIT, async () => {
    const extra = 4096;
    let opens = 0;
    let closes = 0;
    const fs = new WatchedFileSystem({
      size: (actual) => {
        opens++;
        return actual + extra;
      },
      close: () => closes++,
    });
    await assert.rejects(SegmentReader.load(largePath, { fs }), (error: unknown) => {
      assert.ok(error instanceof CorruptionError, String(error));
      assert.equal(error.file, largePath);
      assert.equal(error.offset, largeSize);
      assert.match(error.message, new RegExp(largePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return true;
    });
    assert.equal(opens, 1);
    assert.equal(closes, 1);
  });

  test('a file truncated between two slices is a CorruptionError naming the file', LIMIT, async () => {
    const path = newSegmentPath(dir);
    copyFileSync(largePath, path);
    // Runs at the first turn load gives the event loop: after the first slice, before the second.
    setImmediate(() => truncateSync(path, SLICE_BYTES + 1000));
    await assert.rejects(SegmentReader.load(path), (error: unknown) => {
      assert.ok(error instanceof CorruptionError, String(error));
      assert.equal(error.file, path);
      assert.equal(error.offset, SLICE_BYTES + 1000);
      return true;
    });
    assert.equal(statSync(path).size, SLICE_BYTES + 1000);
  });
});

test('load reads one slice per event-loop turn, so other callbacks run while a large segment loads', LIMIT, async () => {
  const events: string[] = [];
  const fs = new WatchedFileSystem({ read: (requested) => events.push(`read ${requested}`) });
  let ticking = true;
  const tick = (): void => {
    events.push('turn');
    if (ticking) setImmediate(tick);
  };
  let scheduledBeforeLoadRan = false;
  setImmediate(() => (scheduledBeforeLoadRan = true));
  setImmediate(tick);
  using reader = await SegmentReader.load(largePath, { fs }).finally(() => (ticking = false));
  assert.equal(scheduledBeforeLoadRan, true, 'a callback scheduled before load ran before load resolved');

  const reads = events.filter((event) => event.startsWith('read'));
  assert.deepStrictEqual(reads, [`read ${SLICE_BYTES}`, `read ${SLICE_BYTES}`, `read ${largeSize - 2 * SLICE_BYTES}`]);
  const lastRead = events.lastIndexOf(reads.at(-1)!);
  for (let i = 1; i <= lastRead; i++) {
    if (events[i]!.startsWith('read'))
      assert.equal(events[i - 1], 'turn', `event-loop turn before the read at event ${i}: ${events.join(', ')}`);
  }
  assert.equal(reader.stats().entries, entries.length);
});

test('load refuses an empty path as open does, with a ValidationError', async () => {
  assert.throws(() => SegmentReader.open(''), ValidationError);
  await assert.rejects(
    SegmentReader.load(''),
    (error: unknown) => error instanceof ValidationError && /an empty string/.test(error.message),
  );
});
