import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, logFileName, nodeFileSystem, type FileSystem } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { ACKNOWLEDGED_MARKER_BYTES, decodeAcknowledgedMarker, encodeAcknowledgedMarker } from './acknowledged-marker.js';
import { LogTail, type TailRead } from './log-tail.js';
import { WriteAheadLog } from './write-ahead-log.js';
import type { Durability } from './wal-options.js';

const decoder = new TextDecoder();

/** Every key the tail hands over in one read, as text, and the read's outcome. */
function drain(tail: LogTail): { keys: string[]; outcome: TailRead } {
  const keys: string[] = [];
  const outcome = tail.read((record) => {
    for (const entry of record.entries) keys.push(decoder.decode(entry.key));
  });
  return { keys, outcome };
}

function put(key: string): { kind: 'put'; key: string; value: string } {
  return { kind: 'put', key, value: `value of ${key}` };
}

test('a marker round-trips, and any torn or foreign bytes read as no marker', () => {
  const position = { sequence: 2 ** 40 + 7, fileFirstSequence: 2 ** 33 + 1, offset: 123_456 };
  const bytes = encodeAcknowledgedMarker(position);
  assert.deepEqual(decodeAcknowledgedMarker(bytes), position);
  for (let at = 0; at < ACKNOWLEDGED_MARKER_BYTES; at++) {
    const damaged = Uint8Array.from(bytes);
    damaged[at]! ^= 0x10;
    assert.equal(decodeAcknowledgedMarker(damaged), undefined, `a flipped byte at ${at}`);
  }
  assert.equal(decodeAcknowledgedMarker(bytes.subarray(0, 31)), undefined);
});

for (const durability of ['fsync', 'write'] as const satisfies readonly Durability[]) {
  test(`in '${durability}' mode a tail hands over every acknowledged record once, in order, and an idle writer's last one too`, async () => {
    const dir = tempDir('tail');
    const wal = await WriteAheadLog.open(dir, { durability });
    const tail = new LogTail(nodeFileSystem, dir, 1);
    try {
      assert.deepEqual(drain(tail).keys, []);
      await wal.append([put('a')]);
      await wal.append([put('b'), put('c')]);
      assert.deepEqual(drain(tail).keys, ['a', 'b', 'c']);
      assert.deepEqual(drain(tail).keys, [], 'nothing twice');
      // The last write of an idle writer: no later write is needed to see it.
      await wal.append([put('d')]);
      const { keys, outcome } = drain(tail);
      assert.deepEqual(keys, ['d']);
      assert.deepEqual(outcome, { kind: 'read', records: 1, acknowledged: 4, stalled: undefined });
      assert.equal(tail.nextSequence, 5);
    } finally {
      tail.close();
      await wal.close();
    }
  });
}

test('a tail never hands over what is in the file but not acknowledged, nor a partial record', async () => {
  const dir = tempDir('tail-unacked');
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  await wal.append([put('a')]);
  await wal.close();
  const marker = readFileSync(join(dir, LOG_ACKNOWLEDGED_FILE));
  const log = join(dir, logFileName(1));
  const reopened = await WriteAheadLog.open(dir, { durability: 'write' });
  await reopened.append([put('b')]);
  await reopened.close();
  // Put back the marker as it was before 'b': 'b' is in the file, but not acknowledged.
  writeFileSync(join(dir, LOG_ACKNOWLEDGED_FILE), marker);
  appendFileSync(log, Buffer.from('SWAL partial record'));
  const tail = new LogTail(nodeFileSystem, dir, 1);
  try {
    assert.deepEqual(drain(tail).keys, ['a']);
    assert.deepEqual(drain(tail).keys, []);
  } finally {
    tail.close();
  }
});

test('a record larger than one read of the tail is handed over whole, with the records around it', async () => {
  const dir = tempDir('tail-large-record');
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  const large = 'x'.repeat(3 * 1024 * 1024); // over the tail's 1 MiB read, so it takes a second read
  try {
    await wal.append([put('before')]);
    await wal.append([{ kind: 'put', key: 'large', value: large }]);
    await wal.append([put('after')]);
  } finally {
    await wal.close();
  }
  const tail = new LogTail(nodeFileSystem, dir, 1);
  const values = new Map<string, number>();
  try {
    for (let read = 0; read < 4; read++) {
      tail.read((record) => {
        for (const entry of record.entries) values.set(decoder.decode(entry.key), entry.kind === 'put' ? entry.value.length : -1);
      });
    }
  } finally {
    tail.close();
  }
  assert.deepEqual([...values.keys()], ['before', 'large', 'after']);
  assert.equal(values.get('large'), large.length);
  assert.equal(tail.nextSequence, 4);
});

test('a tail follows rotation, and a file deleted under it once covered is gone, until it skips past', async () => {
  const dir = tempDir('tail-rotate');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: 4096 });
  const tail = new LogTail(nodeFileSystem, dir, 1);
  const late = new LogTail(nodeFileSystem, dir, 1);
  try {
    const written: string[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `key-${String(i).padStart(4, '0')}`;
      written.push(key);
      await wal.append([{ kind: 'put', key, value: 'x'.repeat(100) }]);
    }
    assert.ok(wal.stats().files > 3, 'the log rotated');
    const seen: string[] = [];
    for (let read = drain(tail); read.keys.length > 0; read = drain(tail)) seen.push(...read.keys);
    assert.deepEqual(seen, written);
    await wal.truncateBefore(150);
    const outcome = drain(late).outcome;
    assert.deepEqual(outcome, { kind: 'gone', missing: 1 });
    late.skipTo(150);
    const after: string[] = [];
    for (let read = drain(late); read.keys.length > 0; read = drain(late)) after.push(...read.keys);
    assert.deepEqual(after, written.slice(149));
  } finally {
    tail.close();
    late.close();
    await wal.close();
  }
});

test('a log file the writer deletes while a tail lists the directory is gone, never an error', async () => {
  const dir = tempDir('tail-vanishing');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: 4096 });
  for (let i = 0; i < 100; i++) await wal.append([{ kind: 'put', key: `key-${i}`, value: 'x'.repeat(100) }]);
  assert.ok(wal.stats().files > 2, 'the log rotated');
  const oldest = join(dir, logFileName(1));
  // The writer's deletion lands between the listing and the stat of the file: the race a flush's truncation runs with a reader.
  const racingFs: FileSystem = Object.assign(Object.create(nodeFileSystem) as FileSystem, {
    stat: (path: string) => {
      if (path === oldest) unlinkSync(oldest);
      return nodeFileSystem.stat(path);
    },
  });
  // Sequence 2 is inside the oldest file, not named for it: the tail must list the directory to find it.
  const tail = new LogTail(racingFs, dir, 2);
  try {
    assert.deepEqual(drain(tail).outcome, { kind: 'gone', missing: 2 });
  } finally {
    tail.close();
    await wal.close();
  }
});

/** The node file system, refusing opens past `limit`: a tail that reopens a file in a loop gets `gone` instead of spinning forever. */
function openLimited(limit: number): FileSystem {
  let opens = 0;
  return new Proxy(nodeFileSystem, {
    get(target, property) {
      const member: unknown = Reflect.get(target, property);
      if (property === 'open' && typeof member === 'function') {
        return (...args: unknown[]): unknown => {
          if (++opens > limit) throw new Error(`more than ${limit} opens: the tail is going round in circles`);
          return Reflect.apply(member, target, args);
        };
      }
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
}

test('a log file emptied or cut short at a record boundary stalls the tail there, naming the missing sequence numbers; it never spins', async () => {
  const dir = tempDir('tail-damaged');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: 4096 });
  for (let i = 0; i < 200; i++) await wal.append([{ kind: 'put', key: `key-${i}`, value: 'x'.repeat(100) }]);
  await wal.close();
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
  assert.ok(files.length >= 4, 'the log rotated');
  const [, second = '', third = ''] = files.map((name) => join(dir, name));
  const secondStart = Number.parseInt(files[1] ?? '', 10);
  const thirdStart = Number.parseInt(files[2] ?? '', 10);
  // The third file keeps only its first record: it ends before the fourth file starts.
  const firstRecordLength = readFileSync(third).readUInt32LE(8);
  truncateSync(third, firstRecordLength);
  writeFileSync(second, '');

  const emptied = new LogTail(openLimited(100), dir, 1);
  const cut = new LogTail(openLimited(100), dir, thirdStart);
  try {
    const fromStart = drain(emptied);
    assert.equal(fromStart.keys.length, secondStart - 1, 'every record of the first file');
    assert.equal(fromStart.outcome.kind, 'read');
    assert.match(String(fromStart.outcome.kind === 'read' && fromStart.outcome.stalled), new RegExp(`from ${secondStart} are missing`));
    assert.equal(emptied.nextSequence, secondStart);
    const pastCut = drain(cut);
    assert.equal(pastCut.keys.length, 1, 'the one record left in the third file');
    assert.match(String(pastCut.outcome.kind === 'read' && pastCut.outcome.stalled), new RegExp(`from ${thirdStart + 1} are missing`));
    assert.deepEqual(drain(cut).keys, [], 'a later read stalls again, handing over nothing twice');
  } finally {
    emptied.close();
    cut.close();
  }
});

test("in 'none' mode nothing is tailed until a clean close publishes everything", async () => {
  const dir = tempDir('tail-none');
  const wal = await WriteAheadLog.open(dir, { durability: 'none' });
  const tail = new LogTail(nodeFileSystem, dir, 1);
  try {
    await wal.append([put('a')]);
    assert.deepEqual(drain(tail).keys, []);
    await wal.close();
    assert.deepEqual(drain(tail).keys, ['a']);
  } finally {
    tail.close();
  }
});

test('an in-process follower hears each acknowledgement before the append resolves', async () => {
  const dir = tempDir('tail-listener');
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  const heard: number[] = [];
  const stop = wal.onAcknowledged((sequence) => heard.push(sequence));
  try {
    await wal.append([put('a')]);
    assert.deepEqual(heard, [1]);
    await wal.append([put('b'), put('c')]);
    assert.deepEqual(heard, [1, 3]);
    stop();
    await wal.append([put('d')]);
    assert.deepEqual(heard, [1, 3]);
  } finally {
    await wal.close();
  }
});

test('passOver moves a tail past a record another tail read, keeping its file open where the record lay, and refuses any but the next', async () => {
  const dir = tempDir('tail-pass-over');
  const wal = await WriteAheadLog.open(dir, { durability: 'write', maxFileBytes: 4096 });
  let opens = 0;
  const countingFs: FileSystem = Object.assign(Object.create(nodeFileSystem) as FileSystem, {
    open: (...args: Parameters<FileSystem['open']>) => {
      if (args[0].endsWith('.log')) opens++;
      return nodeFileSystem.open(...args);
    },
  });
  const leader = new LogTail(nodeFileSystem, dir, 1);
  const follower = new LogTail(countingFs, dir, 1);
  try {
    await wal.append([put('a')]);
    assert.deepEqual(drain(follower).keys, ['a'], 'the follower has the first file open');
    assert.equal(opens, 1);
    const passed: string[] = [];
    await wal.append([put('b')]);
    await wal.append([put('c'), put('d')]);
    leader.read((record) => {
      if (record.firstSeq === 1) return; // the leader starts behind: only the records the follower wants next are passed
      follower.passOver(record, leader.openFileFirstSequence!);
      for (const entry of record.entries) passed.push(decoder.decode(entry.key));
    });
    assert.deepEqual(passed, ['b', 'c', 'd']);
    assert.equal(follower.nextSequence, 5);
    assert.throws(() => follower.passOver({ firstSeq: 9, lastSeq: 9, offset: 0, length: 1 } as never, 1), RangeError);
    await wal.append([put('e')]);
    assert.deepEqual(drain(follower).keys, ['e'], 'it reads on after the records passed over');
    assert.equal(opens, 1, 'from the file it had open');
    // Across rotations, the follower reads on from the right record whatever file it had open.
    for (let i = 0; i < 40; i++) await wal.append([put(`k${i}`)]);
    leader.read((record) => {
      if (record.firstSeq >= follower.nextSequence) follower.passOver(record, leader.openFileFirstSequence!);
    });
    assert.equal(follower.nextSequence, 46);
    await wal.append([put('last')]);
    assert.deepEqual(drain(follower).keys, ['last']);
  } finally {
    leader.close();
    follower.close();
    await wal.close();
  }
});
