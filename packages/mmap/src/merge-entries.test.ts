import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MERGE_STATE, MERGE_STATUS, nativeMergeEntries, type MergeEntries } from './index.js';

/** Entries as a segment block encodes them: flags, key length u16, value length u32, key, value. */
function encode(entries: ReadonlyArray<readonly [key: string, value: string | undefined]>): Uint8Array {
  const parts = entries.map(([key, value]) => {
    const keyBytes = Buffer.from(key);
    const valueBytes = Buffer.from(value ?? '');
    const header = Buffer.alloc(7);
    header[0] = value === undefined ? 1 : 0;
    header.writeUInt16LE(keyBytes.length, 1);
    header.writeUInt32LE(valueBytes.length, 3);
    return Buffer.concat([header, keyBytes, valueBytes]);
  });
  return new Uint8Array(Buffer.concat(parts));
}

/** Decodes entries back: [key, value or undefined for a tombstone]. */
function decode(bytes: Uint8Array): Array<[string, string | undefined]> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries: Array<[string, string | undefined]> = [];
  for (let at = 0; at < buffer.length;) {
    const keyLength = buffer.readUInt16LE(at + 1);
    const valueLength = buffer.readUInt32LE(at + 3);
    const key = buffer.toString('utf8', at + 7, at + 7 + keyLength);
    entries.push([key, buffer[at] === 1 ? undefined : buffer.toString('utf8', at + 7 + keyLength, at + 7 + keyLength + valueLength)]);
    at += 7 + keyLength + valueLength;
  }
  return entries;
}

function loop(): MergeEntries {
  const merge = nativeMergeEntries();
  assert.ok(merge !== undefined, 'the addon builds here');
  return merge;
}

interface Outcome {
  readonly status: number;
  readonly output: Uint8Array;
  readonly blockEnds: number[];
  readonly state: Int32Array;
}

/** Runs the loop over whole inputs, each one run (newest first), feeding runs as asked, until it stops for another reason. */
function mergeWhole(inputs: readonly Uint8Array[], blockSize: number, dropTombstones: boolean, outputBytes = 1 << 16): Outcome {
  const merge = loop();
  const runs: Uint8Array[] = inputs.map(() => new Uint8Array(0));
  const fed = inputs.map(() => false);
  const state = new Int32Array(MERGE_STATE.cursors + inputs.length);
  state[MERGE_STATE.lastEntry] = -1;
  const output = new Uint8Array(outputBytes);
  const hashes = new Uint32Array(1024);
  const offsets = new Uint32Array(1024);
  const blockEnds = new Uint32Array(64);
  for (;;) {
    const status = merge(runs, state, output, hashes, offsets, blockEnds, blockSize, dropTombstones);
    const input = state[MERGE_STATE.detail]!;
    if (status !== MERGE_STATUS.input) {
      return {
        status,
        output: output.subarray(0, state[MERGE_STATE.outputLength]),
        blockEnds: [...blockEnds.subarray(0, state[MERGE_STATE.blocks])],
        state,
      };
    }
    state[MERGE_STATE.cursors + input] = fed[input] ? -1 : 0;
    runs[input] = fed[input] ? new Uint8Array(0) : inputs[input]!;
    fed[input] = true;
  }
}

test('the merge loop keeps the newest entry of each key, in key order, and drops tombstones only when told to', () => {
  const newest = encode([
    ['b', 'B2'],
    ['d', undefined],
    ['e', 'E2'],
  ]);
  const oldest = encode([
    ['a', 'A1'],
    ['b', 'B1'],
    ['d', 'D1'],
    ['f', undefined],
  ]);
  const kept = mergeWhole([newest, oldest], 4096, false);
  assert.equal(kept.status, MERGE_STATUS.done);
  assert.deepEqual(decode(kept.output), [
    ['a', 'A1'],
    ['b', 'B2'],
    ['d', undefined],
    ['e', 'E2'],
    ['f', undefined],
  ]);
  assert.equal(kept.state[MERGE_STATE.entries], 5);
  assert.equal(kept.state[MERGE_STATE.dropped], 0);

  const dropped = mergeWhole([newest, oldest], 4096, true);
  assert.deepEqual(decode(dropped.output), [
    ['a', 'A1'],
    ['b', 'B2'],
    ['e', 'E2'],
  ]);
  assert.equal(dropped.state[MERGE_STATE.dropped], 2);
});

test('the merge loop closes a block once it holds the block size, records offsets within blocks and hashes as key-hash.ts', () => {
  const input = encode([
    ['k1', 'x'.repeat(20)],
    ['k2', 'y'.repeat(20)],
    ['k3', 'z'.repeat(20)],
  ]);
  // Each entry is 7 + 2 + 20 = 29 bytes: a 50-byte block closes after its second entry.
  const outcome = mergeWhole([input], 50, false);
  assert.equal(outcome.status, MERGE_STATUS.done);
  assert.deepEqual(outcome.blockEnds, [58]);
  assert.equal(outcome.state[MERGE_STATE.blockStart], 58, 'the third entry is in the open block');
  const merge = loop();
  // FNV-1a of "k1", then fmix32: computed as key-hash.ts does.
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from('k1')) hash = Math.imul(hash ^ byte, 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  const state = new Int32Array(MERGE_STATE.cursors + 1);
  state[MERGE_STATE.lastEntry] = -1;
  const hashes = new Uint32Array(8);
  const offsets = new Uint32Array(8);
  const status = merge([input], state, new Uint8Array(1024), hashes, offsets, new Uint32Array(8), 50, false);
  assert.equal(status, MERGE_STATUS.input, 'a run is not done until the caller says so');
  assert.equal(hashes[0], hash >>> 0);
  assert.deepEqual([...offsets.subarray(0, 3)], [0, 29, 0]);
});

test('the merge loop stops for room without losing its place, and reports a run out of order or cut short', () => {
  const input = encode([
    ['a', 'x'.repeat(40)],
    ['b', 'y'.repeat(40)],
  ]);
  const tight = mergeWhole([input], 4096, false, 60);
  assert.equal(tight.status, MERGE_STATUS.room);
  assert.equal(tight.state[MERGE_STATE.detail], 96, 'the open block and the next entry need 96 bytes');
  assert.deepEqual(decode(tight.output), [['a', 'x'.repeat(40)]]);

  const unsorted = mergeWhole(
    [
      encode([
        ['b', '1'],
        ['a', '2'],
      ]),
    ],
    4096,
    false,
  );
  assert.equal(unsorted.status, MERGE_STATUS.order);
  assert.equal(unsorted.state[MERGE_STATE.detail], 0);

  const cut = encode([['a', 'value']]).subarray(0, 10);
  const malformed = mergeWhole([encode([['b', '1']]), cut], 4096, false);
  assert.equal(malformed.status, MERGE_STATUS.malformed);
  assert.equal(malformed.state[MERGE_STATE.detail], 1, 'the second run is the one cut short');
});

test('the merge loop refuses a state that does not describe its output with a RangeError, reading nothing', () => {
  const merge = loop();
  const run = encode([['a', 'x']]);
  const call = (set: (state: Int32Array) => void): number => {
    const state = new Int32Array(MERGE_STATE.cursors + 1);
    state[MERGE_STATE.lastEntry] = -1;
    set(state);
    return merge([run], state, new Uint8Array(64), new Uint32Array(8), new Uint32Array(8), new Uint32Array(8), 4096, false);
  };
  assert.equal(
    call(() => {}),
    MERGE_STATUS.input,
    'a sound state runs: the run is merged, then spent',
  );
  const unsound: Array<[string, (state: Int32Array) => void]> = [
    ['an output length past the output', (state) => (state[MERGE_STATE.outputLength] = 65)],
    ['an open block past the output length', (state) => (state[MERGE_STATE.blockStart] = 1)],
    ['more entries than slots', (state) => (state[MERGE_STATE.entries] = 9)],
    ['more blocks than slots', (state) => (state[MERGE_STATE.blocks] = 9)],
    ['a last entry past the output length', (state) => ((state[MERGE_STATE.outputLength] = 10), (state[MERGE_STATE.lastEntry] = 8))],
    ['a cursor below -1', (state) => (state[MERGE_STATE.cursors] = -2)],
  ];
  for (const [what, set] of unsound) assert.throws(() => call(set), RangeError, what);
});

test('the merge loop refuses arguments of the wrong types with a TypeError', () => {
  const merge = loop() as unknown as (...args: unknown[]) => number;
  const state = new Int32Array(MERGE_STATE.cursors + 1);
  assert.throws(
    () => merge([new Uint8Array(0)], state, new Uint8Array(8), new Uint32Array(8), new Uint32Array(8), new Uint32Array(8), 4096),
    TypeError,
  );
  assert.throws(
    () => merge([], state, new Uint8Array(8), new Uint32Array(8), new Uint32Array(8), new Uint32Array(8), 4096, false),
    TypeError,
  );
  assert.throws(
    () =>
      merge(
        [new Uint8Array(0)],
        new Uint32Array(24),
        new Uint8Array(8),
        new Uint32Array(8),
        new Uint32Array(8),
        new Uint32Array(8),
        4096,
        false,
      ),
    TypeError,
  );
  assert.throws(
    () => merge(['a run'], state, new Uint8Array(8), new Uint32Array(8), new Uint32Array(8), new Uint32Array(8), 4096, false),
    TypeError,
  );
});
