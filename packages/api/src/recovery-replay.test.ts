import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeFileSystem } from '@silt/fs';
import { readLogRange, WriteAheadLog, type LogRangeRecord, type WalEntryInput } from '@silt/wal';
import { toScanRange } from '@silt/segments/internal';
import { Memtable } from './memtable.js';
import { replayLog } from './recovery.js';
import { tempIndexDir } from './test-support/temp-index.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Batches of puts (text and bytes) and deletes over a few keys, so later writes overwrite and delete earlier ones. */
function batches(): WalEntryInput[][] {
  const out: WalEntryInput[][] = [];
  for (let b = 0; b < 40; b++) {
    const batch: WalEntryInput[] = [];
    for (let i = 0; i < 1 + (b % 5); i++) {
      const key = `key-${(b * 7 + i * 3) % 23}`;
      if ((b + i) % 6 === 0) batch.push({ kind: 'delete', key });
      else if ((b + i) % 2 === 0) batch.push({ kind: 'put', key, value: `text ${b}.${i} é ${'x'.repeat(40)}` });
      else batch.push({ kind: 'put', key: encode(key), value: Uint8Array.of(b, i, 255) });
    }
    out.push(batch);
  }
  return out;
}

/** What every key reads as, and the ordered entries: the table's whole answer. */
function contents(table: Memtable): unknown {
  const keys = Array.from({ length: 23 }, (_, i) => `key-${i}`);
  return {
    lookups: keys.map((key) => table.lookup(key)),
    entries: [...table.entriesIn(toScanRange({}))],
    size: table.size,
    bytes: table.bytes,
  };
}

test("a replay puts back exactly the writes past the covered sequence, from the log's replay and from readLogRange's records", async () => {
  const directory = tempIndexDir('replay');
  const wal = await WriteAheadLog.open(directory, { maxFileBytes: 1024 }); // several files
  const written = batches();
  for (const batch of written) await wal.append(batch);
  const last = wal.lastSequence;
  assert.ok(wal.stats().files >= 3, `${wal.stats().files} log files`);
  try {
    // Covered up to the middle of a record: the replay starts inside it.
    for (const covered of [0, 1, 17, 30, last - 1, last]) {
      const direct = new Memtable();
      let sequence = 0;
      for (const batch of written) {
        for (const entry of batch) {
          if (++sequence <= covered) continue;
          const id = Buffer.from(typeof entry.key === 'string' ? encode(entry.key) : entry.key).toString('latin1');
          if (entry.kind === 'delete') direct.apply(sequence, { kind: 'delete', id, valueBytes: 0 });
          else
            direct.apply(sequence, {
              kind: 'put',
              id,
              value: entry.value,
              valueBytes: typeof entry.value === 'string' ? encode(entry.value).length : entry.value.length,
            });
        }
      }
      const throughEntries = new Memtable();
      assert.equal(await replayLog(wal, covered, throughEntries), last - covered);
      // readLogRange's records can walk their entries in place.
      const walkable = {
        replay: (from?: number): AsyncIterableIterator<LogRangeRecord> =>
          asAsync(from! > last ? [] : readLogRange(nodeFileSystem, directory, from!, last)),
      };
      const inPlace = new Memtable();
      assert.equal(await replayLog(walkable, covered, inPlace), last - covered);
      assert.deepEqual(contents(throughEntries), contents(direct), `covered ${covered}, the log's replay`);
      assert.deepEqual(contents(inPlace), contents(direct), `covered ${covered}, readLogRange`);
      assert.deepEqual([throughEntries.firstSequence, throughEntries.lastSequence], [direct.firstSequence, direct.lastSequence]);
    }
  } finally {
    await wal.close();
  }
});

async function* asAsync<T>(items: Iterable<T>): AsyncIterableIterator<T> {
  yield* items;
}
