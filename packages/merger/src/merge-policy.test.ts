import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@silt/fs';
import { checkMergeRuns, type MergeRun, type SegmentSummary } from './merge-policy.js';

/** Five live segments, ids 11..15, oldest first. */
const LIVE: SegmentSummary[] = [11, 12, 13, 14, 15].map((id, i) => ({
  id,
  minSequence: i * 10 + 1,
  maxSequence: i * 10 + 10,
  bytes: 100,
  entries: 10,
  tombstones: 0,
}));

const run = (segmentIds: number[], dropTombstones = false): MergeRun => ({ segmentIds, reason: 'tiered', dropTombstones });

test('runs of live neighbours, oldest first, disjoint and free, pass the check', () => {
  checkMergeRuns(LIVE, new Set([13]), [run([14, 15]), run([11, 12], true)]);
  checkMergeRuns(LIVE, new Set(), []);
});

test('a policy answer that would break newest-wins is refused, naming the run and why', () => {
  const refused: Array<[MergeRun[], ReadonlySet<number>, RegExp]> = [
    [[run([12])], new Set(), /\[12\] has fewer than two segments/],
    [[run([12, 14])], new Set(), /\[12, 14\] does not list live neighbours oldest first \(segment 14/],
    [[run([13, 12])], new Set(), /does not list live neighbours oldest first/],
    [[run([15, 16])], new Set(), /segment 16 is out of place/],
    [[run([9, 11])], new Set(), /names segment 9, which is not live/],
    [[run([12, 13])], new Set([13]), /includes segment 13, which is busy/],
    [[run([12, 13]), run([13, 14])], new Set(), /\[13, 14\] shares segment 13 with another run/],
    [[run([12, 13], true)], new Set(), /drops tombstones but does not start at the oldest live segment/],
  ];
  for (const [runs, busy, message] of refused) {
    assert.throws(
      () => checkMergeRuns(LIVE, busy, runs),
      (error: unknown) => error instanceof ValidationError && message.test(error.message),
      message.source,
    );
  }
});
