import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  FaultInjectingFileSystem,
  IoError,
  LOG_ACKNOWLEDGED_FILE,
  ManualClock,
  nodeFileSystem,
  WriterFailedError,
  type FaultRule,
} from '@silt/fs';
import { WriteAheadLog } from './write-ahead-log.js';
import { LogTail } from './log-tail.js';
import type { WalOptions } from './wal-options.js';
import { tempDir } from '@silt/test-support';
import { batchFor, checkRecoveredLog, collect, type Acked } from './test-support/workload.js';

/**
 * The disk says no (EIO, ENOSPC, a half-done write, a failed fdatasync):
 * the call in flight gets a typed IoError, everything after is refused with
 * WriterFailedError, nothing is retried, and reopening with the real file
 * system finds every acknowledged batch and no refused one.
 */

interface Outcome {
  readonly acked: Acked[];
  readonly ioErrors: IoError[];
  readonly refused: WriterFailedError[];
}

/** Fires `count` appends at once and sorts what became of them; any other error fails the test. */
async function burst(wal: WriteAheadLog, count: number, outcome: Outcome): Promise<void> {
  const appends = Array.from({ length: count }, (_, i) => {
    const size = 1 + (i % 3);
    return wal.append(batchFor(wal.lastSequence + 1, size)).then(
      (firstSeq) => void outcome.acked.push({ firstSeq, count: size }),
      (error: unknown) => {
        if (error instanceof IoError) outcome.ioErrors.push(error);
        else if (error instanceof WriterFailedError) outcome.refused.push(error);
        else throw error;
      },
    );
  });
  await Promise.all(appends);
}

interface Scenario {
  readonly options: WalOptions;
  readonly fault: FaultRule;
  /** What to run once the fault is armed; defaults to bursts of appends until the log fails. */
  readonly trigger?: (wal: WriteAheadLog, outcome: Outcome) => Promise<void>;
  /** A second fault armed with the first. */
  readonly alsoFail?: FaultRule;
  readonly expectErrno: string;
}

async function runScenario({
  options,
  fault,
  trigger,
  alsoFail,
  expectErrno,
}: Scenario): Promise<{ outcome: Outcome; reopened: WriteAheadLog; dir: string }> {
  const dir = tempDir('fault');
  const faulty = new FaultInjectingFileSystem(nodeFileSystem);
  const wal = await WriteAheadLog.open(dir, { ...options, fs: faulty });
  const outcome: Outcome = { acked: [], ioErrors: [], refused: [] };
  await burst(wal, 20, outcome);
  assert.equal(outcome.acked.length, 20, 'all acknowledged before the fault');
  faulty.addFault(fault);
  if (alsoFail !== undefined) faulty.addFault(alsoFail);
  if (trigger !== undefined) await trigger(wal, outcome);
  for (let round = 0; round < 50 && outcome.refused.length === 0; round++) await burst(wal, 30, outcome);
  assert.ok(faulty.injected >= 1, 'the fault fired');
  const io = outcome.ioErrors[0];
  assert.ok(io !== undefined, 'the failing call got an IoError');
  assert.equal(io.errno, expectErrno);
  assert.ok(outcome.refused.length > 0, 'later appends were refused');
  for (const refusal of outcome.refused) assert.ok(refusal.cause instanceof IoError);
  await assert.rejects(wal.append(batchFor(wal.lastSequence + 1, 1)), WriterFailedError);
  assert.throws(
    () => wal.appendNow(batchFor(wal.lastSequence + 1, 1), { coalesce: true }),
    WriterFailedError,
    'a refusal is thrown at once',
  );
  assert.equal(wal.refusedFrom, wal.durableSequence + 1);
  await wal.whenWritten(wal.durableSequence);
  if (wal.lastSequence > wal.durableSequence) await assert.rejects(wal.whenWritten(wal.lastSequence), WriterFailedError);
  await assert.rejects(wal.sync(), WriterFailedError);
  await assert.rejects(wal.rotate(), WriterFailedError);
  await assert.rejects(wal.truncateBefore(1), WriterFailedError);
  await assert.rejects(wal.close(), 'close reports that not everything could be made durable');
  await assert.rejects(wal.close(), 'and keeps reporting it');
  const reopened = await WriteAheadLog.open(dir, { fs: nodeFileSystem });
  checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked: outcome.acked, issuedThrough: wal.lastSequence });
  if (alsoFail === undefined)
    assert.equal(reopened.lastSequence, wal.durableSequence, 'what the failed log refused was cut back out of the file');
  return { outcome, reopened, dir };
}

async function expectRecovery(scenario: Scenario): Promise<WriteAheadLog> {
  const { reopened } = await runScenario(scenario);
  try {
    await reopened.append(batchFor(reopened.lastSequence + 1, 1));
    return reopened;
  } finally {
    await reopened.close();
  }
}

test("EIO on a write in 'write' mode fails that group, refuses everything after, and loses nothing acknowledged", async () => {
  await expectRecovery({ options: { durability: 'write' }, fault: { operation: 'write', nth: 3, code: 'EIO' }, expectErrno: 'EIO' });
});

test("ENOSPC after half a write in 'fsync' mode: the writer cuts the half-written group back off itself", async () => {
  const { reopened } = await runScenario({
    options: { durability: 'fsync' },
    fault: { operation: 'write', nth: 2, code: 'ENOSPC', partial: true, pathIncludes: '.log' },
    expectErrno: 'ENOSPC',
  });
  try {
    assert.equal(reopened.recoveryReport.tornTail, undefined, 'no torn tail was left for open to cut');
  } finally {
    await reopened.close();
  }
});

// The one case where a refused append can come back: the disk refuses the cut as well. Whole records
// of the refused group that reached the file are then replayed (their outcome is unknown, as after
// any failed write on a failing disk); open still cuts the torn one, and keeps every acknowledged one.
test('ENOSPC after half a write, and the cut refused too: open cuts the torn tail', async () => {
  const { reopened } = await runScenario({
    options: { durability: 'fsync' },
    fault: { operation: 'write', nth: 2, code: 'ENOSPC', partial: true, pathIncludes: '.log' },
    alsoFail: { operation: 'truncate', nth: 1, code: 'EIO', sticky: true },
    expectErrno: 'ENOSPC',
  });
  try {
    assert.ok(reopened.recoveryReport.tornTail !== undefined, 'the half-written group was cut off on open');
  } finally {
    await reopened.close();
  }
});

test("a failed fdatasync in 'fsync' mode: the group it hit, written but refused, is cut back out, so a reopen does not replay it", async () => {
  const { outcome, reopened } = await runScenario({
    options: { durability: 'fsync' },
    fault: { operation: 'datasync', nth: 1, code: 'EIO', sticky: true },
    expectErrno: 'EIO',
  });
  try {
    assert.equal(outcome.acked.length, 20, 'only the batches before the fault');
    assert.equal(reopened.lastSequence, Math.max(...outcome.acked.map((acked) => acked.firstSeq + acked.count - 1)));
  } finally {
    await reopened.close();
  }
});

test("a failed fdatasync in 'fsync' mode rejects its group with the IoError and the groups queued behind it with WriterFailedError", async () => {
  await expectRecovery({
    options: { durability: 'fsync', maxFileBytes: 2048 },
    fault: { operation: 'datasync', nth: 1, code: 'EIO' },
    trigger: async (wal, outcome) => {
      await burst(wal, 40, outcome); // more than one file's worth: several groups are queued at once
      assert.ok(outcome.ioErrors.length >= 1, 'the group whose fdatasync failed');
      assert.ok(outcome.refused.length >= 1, 'the groups queued behind it, in the same burst');
      assert.equal(outcome.acked.length, 20, 'nothing after the failure was acknowledged');
    },
    expectErrno: 'EIO',
  });
});

test("a failed background fdatasync in 'write' mode stops the log although no append saw it", async () => {
  const clock = new ManualClock();
  await expectRecovery({
    options: { durability: 'write', syncIntervalMs: 5, clock },
    fault: { operation: 'datasync', nth: 1, code: 'EIO' },
    trigger: async (wal, outcome) => {
      clock.advance(5);
      while (wal.refusedFrom === undefined) await new Promise((resolve) => setImmediate(resolve));
      const failure = await wal.append(batchFor(wal.lastSequence + 1, 1)).catch((error: unknown) => error);
      assert.ok(failure instanceof WriterFailedError);
      outcome.ioErrors.push(failure.cause as IoError);
    },
    expectErrno: 'EIO',
  });
});

test('a failed directory fsync while starting a new file fails the group that needed it', async () => {
  await expectRecovery({
    options: { durability: 'fsync', maxFileBytes: 1024 },
    fault: { operation: 'syncDirectory', nth: 1, code: 'EIO' },
    expectErrno: 'EIO',
  });
});

test('ENOSPC creating the next log file fails the group that needed it', async () => {
  await expectRecovery({
    options: { durability: 'write', maxFileBytes: 1024 },
    fault: { operation: 'open', nth: 1, code: 'ENOSPC' },
    expectErrno: 'ENOSPC',
  });
});

test("a failed sync() in 'none' mode rejects it with the IoError and stops the log", async () => {
  await expectRecovery({
    options: { durability: 'none' },
    fault: { operation: 'datasync', nth: 1, code: 'EIO' },
    trigger: async (wal, outcome) => {
      await wal.sync().catch((error: unknown) => {
        assert.ok(error instanceof IoError);
        outcome.ioErrors.push(error);
      });
    },
    expectErrno: 'EIO',
  });
});

test('EIO deleting a file in truncateBefore is an IoError and stops the log', async () => {
  await expectRecovery({
    options: { durability: 'fsync', maxFileBytes: 1024 },
    fault: { operation: 'unlink', nth: 1, code: 'EIO' },
    trigger: async (wal, outcome) => {
      await wal.truncateBefore(wal.lastSequence).catch((error: unknown) => {
        assert.ok(error instanceof IoError);
        outcome.ioErrors.push(error);
      });
    },
    expectErrno: 'EIO',
  });
});

test('an I/O error while open cuts a torn tail is an IoError and the tail is still there to cut next time', async () => {
  const dir = tempDir('fault-open');
  const wal = await WriteAheadLog.open(dir, { durability: 'fsync' });
  const acked: Acked[] = [];
  for (let i = 0; i < 5; i++) acked.push({ firstSeq: await wal.append(batchFor(wal.lastSequence + 1, 2)), count: 2 });
  await wal.close();
  const [name] = readdirSync(dir);
  appendFileSync(join(dir, name!), new Uint8Array(40).fill(7));
  const faulty = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'truncate', nth: 1, code: 'EIO' }]);
  await assert.rejects(WriteAheadLog.open(dir, { fs: faulty }), (error: unknown) => error instanceof IoError && error.errno === 'EIO');
  const reopened = await WriteAheadLog.open(dir);
  assert.equal(reopened.recoveryReport.tornTail?.bytesRemoved, 40);
  checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked });
  await reopened.close();
});

test('a failed write of the acknowledged marker stops publishing it, never the log: the group it described stays acknowledged', async () => {
  const dir = tempDir('fault-marker');
  const faulty = new FaultInjectingFileSystem(nodeFileSystem);
  const wal = await WriteAheadLog.open(dir, { durability: 'write', fs: faulty });
  try {
    await wal.append(batchFor(1, 1));
    faulty.addFault({ operation: 'write', nth: 1, code: 'EIO', pathIncludes: LOG_ACKNOWLEDGED_FILE });
    await wal.append(batchFor(2, 1));
    await wal.append(batchFor(3, 2));
    assert.equal(faulty.injected, 1);
    assert.equal(wal.durableSequence, 4, 'both appends were acknowledged');
    const error = wal.stats().acknowledgedMarkerError;
    assert.ok(error instanceof IoError && error.errno === 'EIO', 'stats() says why readers no longer see writes before a flush');
    const tail = new LogTail(nodeFileSystem, dir, 1);
    const seen: number[] = [];
    tail.read((record) => seen.push(record.firstSeq));
    tail.close();
    assert.deepEqual(seen, [1], 'readers stop at the last marker written');
  } finally {
    await wal.close();
  }
});
