import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { CorruptionError, nodeFileSystem } from '@silt/fs';
import type { AccessMode, Generation, SegmentRecord } from '@silt/segments';
import { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
import { FixtureWriter } from './test-support/index-fixture.js';
import { MergedView } from './merged-view.js';
import { ArraySource, put } from './test-support/array-source.js';
import { SeededRandom } from '@silt/fs/internal';

const utf8 = new TextEncoder();
const ACCESS_MODES: readonly AccessMode[] = ['memory', 'mmap', 'file'];

function optionsFor(accessMode: AccessMode): SegmentStackOptions {
  return { fs: nodeFileSystem, accessMode, cacheBytes: 1 << 20 };
}

function valueOf(stack: SegmentStack, key: string): string | undefined {
  for (const source of stack.sources) {
    const found = source.lookup(key);
    if (found !== undefined) return found.kind === 'put' ? Buffer.from(found.value).toString() : undefined;
  }
  return undefined;
}

/** Two flushed segments of different sizes, counts, sequences and keys. */
async function twoSegments(label: string): Promise<{ writer: FixtureWriter; older: number; newer: number }> {
  const writer = FixtureWriter.create(label);
  const older = await writer.flush([
    ['apple', '1'],
    ['banana', '2'],
    ['cherry', null],
  ]);
  const newer = await writer.flush([
    ['kiwi', '3'],
    ['lemon', '4'],
  ]);
  return { writer, older, newer };
}

/** `generation` with the row of segment `id` changed by `change`: a manifest row the file does not match. */
function withRow(generation: Generation, id: number, change: (row: SegmentRecord) => Partial<SegmentRecord>): Generation {
  return {
    ...generation,
    segments: generation.segments.map((row) => (row.id === id ? { ...row, ...change(row) } : row)),
  };
}

function mismatchOf(error: unknown, path: string): string {
  assert.ok(error instanceof CorruptionError, `expected a CorruptionError, got ${String(error)}`);
  assert.equal(error.file, path);
  assert.match(error.message, /does not match its manifest row/);
  return error.message;
}

for (const accessMode of ACCESS_MODES) {
  test(`a segment file that matches its manifest row opens and reads (${accessMode})`, async () => {
    const { writer } = await twoSegments(`stack-match-${accessMode}`);
    const stack = SegmentStack.open(writer.directory, writer.manifest.current(), optionsFor(accessMode));
    assert.equal(stack.segmentCount, 2);
    assert.equal(valueOf(stack, 'banana'), '2');
    assert.equal(valueOf(stack, 'lemon'), '4');
    stack.close();
  });

  test(`another segment's file copied over a segment makes open a CorruptionError naming the file and the fields (${accessMode})`, async () => {
    const { writer, older, newer } = await twoSegments(`stack-copied-${accessMode}`);
    copyFileSync(writer.segmentPath(older), writer.segmentPath(newer));
    const path = writer.segmentPath(newer);
    assert.throws(
      () => SegmentStack.open(writer.directory, writer.manifest.current(), optionsFor(accessMode)),
      (error: unknown) => {
        const message = mismatchOf(error, path);
        assert.match(message, new RegExp(`segments/${newer}\\.seg does not match`));
        assert.match(message, /entries 2 in the manifest, 3 in the file/);
        assert.match(message, /tombstones 0 in the manifest, 1 in the file/);
        assert.match(message, /minSequence 4 in the manifest, 1 in the file/);
        assert.match(message, /maxSequence 5 in the manifest, 3 in the file/);
        assert.match(message, /minKey "kiwi" in the manifest, "apple" in the file/);
        assert.match(message, /maxKey "lemon" in the manifest, "cherry" in the file/);
        assert.match(message, /bytes \d+ in the manifest, \d+ in the file/);
        assert.match(message, /was another segment's file copied over it\?/);
        return true;
      },
    );
  });
}

/** Eight segments over 300 keys, each setting or deleting a random third of them; the writes in order, oldest first. */
async function overlappingSegments(label: string): Promise<{ writer: FixtureWriter; latest: Map<string, string | null> }> {
  const writer = FixtureWriter.create(label);
  const random = new SeededRandom(label.length);
  const latest = new Map<string, string | null>();
  for (let segment = 0; segment < 8; segment++) {
    const entries: Array<[string, string | null]> = [];
    for (let k = 0; k < 300; k++) {
      if (random.next() >= 1 / 3) continue;
      const key = `key-${k}`;
      const value = random.next() < 0.2 ? null : `${segment}:${k}`;
      entries.push([key, value]);
      latest.set(key, value);
    }
    await writer.flush(entries);
  }
  return { writer, latest };
}

for (const accessMode of ACCESS_MODES) {
  test(`a get through the stack's key filter reads the newest write of every key, a newer unfiltered source first (${accessMode})`, async () => {
    const { writer, latest } = await overlappingSegments(`stack-filter-${accessMode}`);
    const stack = SegmentStack.open(writer.directory, writer.manifest.current(), optionsFor(accessMode));
    assert.ok(stack.keyFilter !== undefined, 'eight small segments get a stack filter');
    assert.equal(stack.keyFilter.length, 8);
    const front = new ArraySource([put('key-7', 'front'), put('key-999', 'front only')]);
    const view = new MergedView([front, ...stack.sources], stack);
    const read = (key: string): string | undefined => {
      const found = view.get(key);
      return found === undefined ? undefined : Buffer.from(found.value).toString();
    };
    for (let k = 0; k < 320; k++) {
      const key = `key-${k}`;
      assert.equal(valueOf(stack, key), latest.get(key) ?? undefined, `${key}, asked of every segment in turn`);
      const expected = key === 'key-7' ? 'front' : (latest.get(key) ?? undefined);
      assert.equal(read(key), expected, key);
      assert.equal(view.get(utf8.encode(key))?.value === undefined, expected === undefined, `${key} as bytes`);
    }
    assert.equal(read('key-999'), 'front only');
    assert.equal(read('k'.repeat(70_000)), undefined, 'a key longer than any stored one is absent');
    stack.close();
  });
}

test('every field of the manifest row is checked, and each mismatch names the field, the manifest value and the file value', async () => {
  const { writer, newer } = await twoSegments('stack-fields');
  const current = writer.manifest.current();
  const row = current.segments.find((segment) => segment.id === newer)!;
  const path = writer.segmentPath(newer);
  const cases: ReadonlyArray<[field: string, change: Partial<SegmentRecord>, expected: RegExp]> = [
    ['bytes', { bytes: row.bytes + 1 }, new RegExp(`bytes ${row.bytes + 1} in the manifest, ${row.bytes} in the file`)],
    ['entries', { entries: 7 }, /entries 7 in the manifest, 2 in the file/],
    ['tombstones', { tombstones: 1 }, /tombstones 1 in the manifest, 0 in the file/],
    ['minSequence', { minSequence: 3 }, /minSequence 3 in the manifest, 4 in the file/],
    ['maxSequence', { maxSequence: 6 }, /maxSequence 6 in the manifest, 5 in the file/],
    ['minKey', { minKey: utf8.encode('kiwj') }, /minKey "kiwj" in the manifest, "kiwi" in the file/],
    ['maxKey', { maxKey: new Uint8Array([0x6c, 0x65, 0x6d, 0x6f, 0x6e, 0]) }, /maxKey 0x6c656d6f6e00 in the manifest, "lemon" in the file/],
  ];
  for (const [field, change, expected] of cases) {
    assert.throws(
      () =>
        SegmentStack.open(
          writer.directory,
          withRow(current, newer, () => change),
          optionsFor('memory'),
        ),
      (error: unknown) => {
        const message = mismatchOf(error, path);
        assert.match(message, expected, field);
        assert.equal(message.split('in the manifest').length - 1, 1, `only ${field} differs`);
        return true;
      },
      field,
    );
  }
});

test('advance checks the segments it opens and, on a mismatch, leaves the stack it came from as it was', async () => {
  const { writer, older } = await twoSegments('stack-advance');
  const stack = SegmentStack.open(writer.directory, writer.manifest.current(), optionsFor('file'));
  const third = await writer.flush([['mango', '5']]);
  copyFileSync(writer.segmentPath(older), writer.segmentPath(third));
  assert.throws(
    () => stack.advance(writer.manifest.current()),
    (error: unknown) => {
      mismatchOf(error, writer.segmentPath(third));
      return true;
    },
  );
  assert.equal(stack.segmentCount, 2);
  assert.equal(valueOf(stack, 'apple'), '1');
  stack.close();
});

test('advanceInTurns checks the segments it loads, and opens matching ones', async () => {
  const { writer, older } = await twoSegments('stack-turns');
  const first = SegmentStack.open(writer.directory, writer.manifest.current(), optionsFor('memory'));
  await writer.flush([['mango', '5']]);
  const { stack, retired } = await first.advanceInTurns(writer.manifest.current());
  assert.deepEqual(retired, []);
  assert.equal(stack.segmentCount, 3);
  assert.equal(valueOf(stack, 'mango'), '5');
  const fourth = await writer.flush([['nectarine', '6']]);
  copyFileSync(writer.segmentPath(older), writer.segmentPath(fourth));
  await assert.rejects(stack.advanceInTurns(writer.manifest.current()), (error: unknown) => {
    mismatchOf(error, writer.segmentPath(fourth));
    return true;
  });
  assert.equal(stack.segmentCount, 3);
  assert.equal(valueOf(stack, 'banana'), '2');
  stack.close();
});
