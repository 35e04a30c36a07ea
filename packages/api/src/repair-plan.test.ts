import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRepair, type LogFileFacts, type RepairInventory, type SoundSegment } from './repair-plan.js';

function segment(id: number, minSequence: number, maxSequence: number): SoundSegment {
  const key = new TextEncoder().encode('k');
  return { name: `${id}.seg`, id, minSequence, maxSequence, entries: 1, tombstones: 0, bytes: 100, minKey: key, maxKey: key };
}

/** A log file of records covering `ranges` (each [first, last]), 100 bytes each, in order. */
function logFile(
  firstSequence: number,
  ranges: ReadonlyArray<readonly [number, number]>,
  damage: LogFileFacts['damage'] = [],
): LogFileFacts {
  return {
    name: `${String(firstSequence).padStart(16, '0')}.log`,
    firstSequence,
    bytes: ranges.length * 100,
    records: ranges.map(([first, last], i) => ({ offset: i * 100, length: 100, firstSequence: first, lastSequence: last })),
    damage,
  };
}

function inventory(parts: Partial<RepairInventory>): RepairInventory {
  return { segments: [], damagedSegments: [], temporaryFiles: [], logFiles: [], ...parts };
}

const ranges = (items: ReadonlyArray<{ from: number; to: number }>): number[][] => items.map((item) => [item.from, item.to]);

test('log records fill a hole between segments and continue past them; only what no record or segment holds is lost', () => {
  const plan = planRepair(
    inventory({
      segments: [segment(1, 1, 10), segment(3, 21, 30)],
      // 11..25 and 31..40 in the log, then a damaged record (41..42 unreadable), then 43..50.
      logFiles: [
        logFile(11, [
          [11, 15],
          [16, 20],
          [21, 25],
        ]),
        logFile(
          26,
          [
            [26, 30],
            [31, 40],
          ],
          [{ offset: 200, detail: 'damaged' }],
        ),
        logFile(43, [[43, 50]]),
      ],
    }),
  );
  assert.deepEqual(
    plan.segments.map((kept) => kept.id),
    [1, 3],
  );
  assert.deepEqual(
    plan.logSegments.map((built) => [built.id, built.from, built.to]),
    [
      [4, 11, 20],
      [5, 31, 40],
      [6, 43, 50],
    ],
  );
  assert.deepEqual(
    plan.logSegments[0]!.records.map((record) => record.firstSequence),
    [11, 16],
  );
  assert.deepEqual(ranges(plan.lost), [[41, 42]]);
  assert.equal(plan.coveredSequence, 50);
  assert.equal(plan.lastKnownSequence, 50);
  assert.equal(plan.nextSegmentId, 7);
  assert.ok(plan.setAside.filter((entry) => entry.file.startsWith('wal/')).length === 3, 'every log file is set aside');
});

test('a record found twice (a log file copied over another) is recovered once', () => {
  const plan = planRepair(
    inventory({
      logFiles: [
        logFile(1, [
          [1, 5],
          [6, 9],
        ]),
        logFile(10, [
          [1, 5],
          [6, 9],
        ]),
        logFile(20, [[10, 12]]),
      ],
    }),
  );
  assert.deepEqual(
    plan.logSegments.map((built) => [built.from, built.to, built.records.length]),
    [[1, 12, 3]],
  );
  assert.deepEqual(plan.lost, []);
});

test('a log stretch that starts inside a kept segment is built only from past its end', () => {
  const plan = planRepair(
    inventory({
      segments: [segment(2, 1, 20)],
      logFiles: [
        logFile(15, [
          [15, 18],
          [19, 24],
          [25, 30],
        ]),
      ],
    }),
  );
  assert.deepEqual(
    plan.logSegments.map((built) => [built.from, built.to, built.records.map((record) => record.firstSequence)]),
    [[21, 30, [19, 25]]],
  );
});

test('a gap before the first record and after the segments is lost, and named', () => {
  const plan = planRepair(inventory({ segments: [segment(1, 1, 10)], logFiles: [logFile(15, [[15, 20]])] }));
  assert.deepEqual(ranges(plan.lost), [[11, 14]]);
  assert.match(plan.lost[0]!.why, /no sound segment and no intact log record/);
});

test("a new segment never takes an unfinished build's id", () => {
  const plan = planRepair(inventory({ segments: [segment(1, 1, 10)], temporaryFiles: ['7.seg.tmp'], logFiles: [logFile(11, [[11, 12]])] }));
  assert.deepEqual(
    plan.logSegments.map((built) => built.id),
    [8],
  );
  assert.equal(plan.nextSegmentId, 9);
});

test('a log of 300,000 records plans without overflowing the stack, recovering every one', () => {
  const count = 300_000;
  const records: Array<readonly [number, number]> = Array.from({ length: count }, (_, i) => [i + 1, i + 1] as const);
  const plan = planRepair(inventory({ logFiles: [logFile(1, records)] }));
  assert.equal(plan.lastKnownSequence, count);
  assert.deepEqual(plan.lost, []);
});
