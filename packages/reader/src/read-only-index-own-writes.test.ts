import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { WAL_DIRECTORY } from '@silt/fs';
import { WriteAheadLog, type WalEntryInput } from '@silt/wal';
import { ReadOnlyIndex } from './read-only-index.js';
import { recordOwnWrites } from './internal.js';
import { FixtureWriter, type FixtureEntry } from './test-support/index-fixture.js';

/** Only file-system events wake these readers within a test's lifetime: no safety poll. */
const EVENTS_ONLY = { pollIntervalMs: 2 ** 31 - 1 } as const;

const KEYS = ['a', 'b', 'c', 'é', 'long key'] as const;

/** A write as the log holds it, with who made it: this process (recorded as its own) or another. */
interface LoggedWrite {
  readonly sequence: number;
  readonly key: string;
  /** undefined: a delete. */
  readonly value: string | Uint8Array | undefined;
  readonly own: boolean;
}

type Step =
  | { readonly kind: 'write'; readonly own: boolean; readonly batch: ReadonlyArray<readonly [string, string | Uint8Array | undefined]> }
  | { readonly kind: 'read' }
  | { readonly kind: 'flush' };

const valueArb = fc.oneof(fc.string({ maxLength: 4 }), fc.uint8Array({ maxLength: 3 }), fc.constant(undefined));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      own: fc.boolean(),
      batch: fc.array(fc.tuple(fc.constantFrom(...KEYS), valueArb), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'read' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
);

/** What a read must show: per key, the newest write the reader sees from the log and segments (up to `visible`) or its own. */
function expectedAt(writes: readonly LoggedWrite[], visible: number): Map<string, string | Uint8Array> {
  const newest = new Map<string, LoggedWrite>();
  for (const write of writes) if (write.own || write.sequence <= visible) newest.set(write.key, write);
  const live = new Map<string, string | Uint8Array>();
  for (const [key, write] of newest) if (write.value !== undefined) live.set(key, write.value);
  return live;
}

function asEntry(key: string, value: string | Uint8Array | undefined): WalEntryInput {
  return value === undefined ? { kind: 'delete', key } : { kind: 'put', key, value };
}

// With `tail: false` no read reaches them in the log: the own-writes table serves every one of them until a generation covers it.
for (const tail of [false, true, 'onRead'] as const) {
  test(`with tail: ${String(tail)}, a process reads its own acknowledged writes at once and every newer write over them, whatever the log shows yet`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
        const writer = FixtureWriter.create('own-writes');
        await writer.flush([['a', 'from a segment']]);
        const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability: 'write', nextSequence: 2 });
        const writes: LoggedWrite[] = [{ sequence: 1, key: 'a', value: 'from a segment', own: false }];
        let flushed = 1;
        try {
          await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, tail });
          for (const step of steps) {
            if (step.kind === 'write') {
              const entries = step.batch.map(([key, value]) => asEntry(key, value));
              await wal.append(entries);
              const last = wal.lastSequence;
              step.batch.forEach(([key, value], n) =>
                writes.push({ sequence: last - step.batch.length + 1 + n, key, value, own: step.own }),
              );
              if (step.own) assert.equal(recordOwnWrites(reader, entries, last), true, 'an acknowledgement in order is taken');
            } else if (step.kind === 'flush' && wal.lastSequence > flushed) {
              const covered = writes.filter((write) => write.sequence > flushed);
              const entries: FixtureEntry[] = covered.map((write) => [write.key, write.value === undefined ? null : text(write.value)]);
              flushed = wal.lastSequence;
              await writer.flush(entries, flushed);
              await reader.refresh();
              // The segment holds text only: from here on the model expects what the segment gives back.
              for (let n = 0; n < writes.length; n++) {
                const write = writes[n]!;
                if (write.sequence <= flushed && write.value instanceof Uint8Array) writes[n] = { ...write, value: text(write.value) };
              }
            }
            const scanned = new Map(reader.range());
            const expected = expectedAt(writes, reader.visibleSequence);
            assert.deepEqual(scanned, expected, `a scan at visible sequence ${reader.visibleSequence}`);
            for (const key of KEYS) assert.deepEqual(reader.get(key), expected.get(key), `get(${key})`);
          }
        } finally {
          await wal.close();
          writer.close();
        }
      }),
      { numRuns: 30 },
    );
  });
}

test('an acknowledgement that comes after a later one is not taken: the caller waits for the log instead', async () => {
  const writer = FixtureWriter.create('own-writes-order');
  await writer.flush([['a', '1']]);
  const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability: 'write', nextSequence: 2 });
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, tail: 'onRead' });
    const first: WalEntryInput[] = [{ kind: 'put', key: 'a', value: 'first' }];
    const second: WalEntryInput[] = [{ kind: 'put', key: 'b', value: 'second' }];
    await wal.append(first);
    await wal.append(second);
    assert.equal(recordOwnWrites(reader, second, 3), true);
    assert.equal(recordOwnWrites(reader, first, 2), false, 'sequence 2 after 3');
    assert.equal(reader.visibleSequence, 1, 'the log was not read');
    assert.equal(reader.get('b'), 'second');
    await reader.catchUpTo(2);
    assert.equal(reader.get('a'), 'first');
    assert.equal(recordOwnWrites(reader, first, 2), true, 'visible already: nothing to hold');
  } finally {
    await wal.close();
    writer.close();
  }
});

test('own writes past half of maxTailBytes are not taken: the caller waits for the log instead, and none of the batch shows', async () => {
  const writer = FixtureWriter.create('own-writes-full');
  await writer.flush([['a', '1']]);
  const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability: 'write', nextSequence: 2 });
  try {
    // No tailing: nothing but a generation makes the own writes visible, so the table keeps them all.
    await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, tail: false, maxTailBytes: 64 * 1024 });
    const big = (key: string): WalEntryInput[] => [{ kind: 'put', key, value: 'x'.repeat(20 * 1024) }];
    for (const key of ['first', 'second']) {
      await wal.append(big(key));
      assert.equal(recordOwnWrites(reader, big(key), wal.lastSequence), true, `${key}: under half of 64 KiB held before it`);
    }
    await wal.append(big('third'));
    assert.equal(recordOwnWrites(reader, big('third'), wal.lastSequence), false, '40 KiB held: past half');
    assert.equal(reader.get('second')?.length, 20 * 1024);
    assert.equal(reader.get('third'), undefined, 'nothing of a batch not taken');
  } finally {
    await wal.close();
    writer.close();
  }
});

function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
}
