import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, WRITER_BOOKKEEPING_FILES, sequenceOfLogFile } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { parseLogFile } from '@silt/wal';
import { Index } from './index-handle.js';
import { repairIndex } from './repair.js';
import { buildDamageFixture, heldSequences, type DamageFixture } from './test-support/damage-fixture.js';
import { snapshotDirectory, tempDir } from '@silt/test-support';
import { describeDifference, readServedState, sameState } from './test-support/write-model.js';

/**
 * Repair killed for real: a child runs `repairIndex` on a damaged index
 * (its manifest deleted, a record in the middle of the log damaged, so the
 * repair builds segments from the log, writes a manifest and moves files)
 * and is SIGKILLed, either just before one of its I/O steps (a sample of
 * them; every one with SOAK=1) or after a random delay (which also lands
 * in SQLite's writes and the final open, which are no steps). After each
 * kill no file is lost (every file the index held is in place or in
 * lost+found), and repair run again here succeeds and recovers every
 * write but the damaged record's, as an uninterrupted repair does.
 */

const SOAK = process.env.SOAK === '1';
const STEP_KILLS = SOAK ? Number.POSITIVE_INFINITY : 12;
const TIMED_KILLS = SOAK ? 40 : 4;
const CHILD = fileURLToPath(new URL('./test-support/repair-child.js', import.meta.url));
const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1, autoMerge: false } as const;

interface ChildRun {
  /** What the child was about to do when it killed itself. */
  readonly killedBefore: string | undefined;
  /** The I/O steps of a repair that finished. */
  readonly doneAfterSteps: number | undefined;
  readonly killed: boolean;
}

/** Runs the repair child on `dir`; SIGKILLs it after `killAfterMs` if given; resolves once it is gone. */
function runRepairChild(dir: string, killAtStep: number, killAfterMs?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ dir, killAtStep })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const killedBefore = /^k \d+ (.*)$/m.exec(stdout)?.[1];
      const done = /^done (\d+)$/m.exec(stdout)?.[1];
      if (signal === 'SIGKILL') resolve({ killedBefore, doneAfterSteps: undefined, killed: true });
      else if (code === 0 && done !== undefined) resolve({ killedBefore: undefined, doneAfterSteps: Number(done), killed: false });
      else reject(new Error(`the repair child exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

/** The fixture with its manifest deleted and a record in the middle of a log file that is not the newest damaged. */
function damage(directory: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(directory, `${MANIFEST_FILE}${suffix}`), { force: true });
  const logs = readdirSync(join(directory, 'wal'))
    .filter((name) => sequenceOfLogFile(name) !== undefined)
    .sort();
  const victim = join(directory, 'wal', logs[1]!);
  const bytes = readFileSync(victim);
  const records = parseLogFile(bytes, { file: victim, firstSequence: sequenceOfLogFile(logs[1]!)!, isLast: false }).records;
  const record = records[Math.floor(records.length / 2)]!;
  bytes[record.offset + Math.floor(record.length / 2)]! ^= 0x5a;
  writeFileSync(victim, bytes);
}

/**
 * Every file of `original` (by its bytes) is still somewhere under `directory`, in place or in lost+found; the pid file aside, which
 * the lock rewrites.
 */
function assertNothingLost(original: Record<string, string>, directory: string, when: string): void {
  const now = new Set(Object.values(snapshotDirectory(directory)));
  const lost = Object.entries(original).filter(([file, hash]) => !WRITER_BOOKKEEPING_FILES.includes(file) && !now.has(hash));
  assert.deepEqual(
    lost.map(([file]) => file),
    [],
    `${when}: files neither in place nor in lost+found`,
  );
}

/** Repair again, here: it must succeed, report exactly the damaged record's writes lost, and the index must serve every other write. */
async function repairAgainAndCheck(directory: string, fixture: DamageFixture, held: { held: boolean[]; last: number }): Promise<void> {
  const report = await repairIndex(directory);
  const { model } = fixture;
  const lost = model.writes.filter((write) => !held.held[write.sequence]).map((write) => write.sequence);
  const reported = model.writes
    .filter((write) => report.lost.some((range) => write.sequence >= range.from && write.sequence <= range.to))
    .map((write) => write.sequence);
  assert.deepEqual(reported, lost, `lost ranges ${JSON.stringify(report.lost)}`);
  const index = await Index.open(directory, NO_TIMER);
  try {
    const served = readServedState(index, model.allKeys);
    const expected = model.stateWithout((sequence) => !held.held[sequence]);
    assert.ok(sameState(served, expected), describeDifference(expected, served));
  } finally {
    await index.close();
  }
}

/** Steps to kill at: all of 1..total, or `count` spread evenly over it with seeded jitter. */
function stepsToKill(total: number, count: number, random: SeededRandom): number[] {
  if (count >= total) return Array.from({ length: total }, (_, i) => i + 1);
  const width = total / count;
  return Array.from({ length: count }, (_, i) => Math.min(total, Math.floor(i * width + random.next() * width) + 1));
}

test(
  `repair SIGKILLed before ${SOAK ? 'every one' : `${STEP_KILLS} sampled ones`} of its I/O steps and at ${TIMED_KILLS} random moments loses no file, and repair run again recovers every write the damage left`,
  { timeout: SOAK ? Number.POSITIVE_INFINITY : 300_000 },
  async (t) => {
    const random = new SeededRandom(Number(process.env.SILT_KILL_SEED ?? 20250702));
    const fixture = await buildDamageFixture(join(tempDir('repair-kill'), 'idx'), random.intBetween(1, 2 ** 31 - 1));
    try {
      damage(fixture.directory);
      const original = snapshotDirectory(fixture.directory);
      const held = heldSequences(fixture.directory, fixture);
      assert.ok(
        held.held.slice(1).some((isHeld) => !isHeld),
        'the damage destroys a record',
      );
      const root = mkdtempSync(join(tmpdir(), 'silt-repair-kill-'));
      let copies = 0;
      const copy = (): string => {
        const directory = join(root, String(copies++));
        cpSync(fixture.directory, directory, { recursive: true });
        return directory;
      };
      // An uninterrupted repair, counting its steps: what every interrupted one must come to.
      const probe = await runRepairChild(copy(), 0);
      const total = probe.doneAfterSteps!;
      const killedBefore = new Map<string, number>();
      const kills: Array<{ readonly step: number; readonly afterMs?: number }> = [
        ...stepsToKill(total, STEP_KILLS, random).map((step) => ({ step })),
        ...Array.from({ length: TIMED_KILLS }, () => ({ step: 0, afterMs: random.intBetween(40, 400) })),
      ];
      for (const kill of kills) {
        const directory = copy();
        const run = await runRepairChild(directory, kill.step, kill.afterMs);
        const what = run.killed ? (run.killedBefore ?? `after ${kill.afterMs} ms`) : 'finished first';
        const label = `killed before step ${kill.step} of ${total}: ${what}`;
        try {
          assertNothingLost(original, directory, `after the kill (${label})`);
          await repairAgainAndCheck(directory, fixture, held);
          assertNothingLost(original, directory, `after repairing again (${label})`);
        } catch (error) {
          throw new Error(`${label}; the index is kept in ${directory}: ${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
          });
        }
        const [operation = '', file = ''] = what.split(' ');
        const kind = run.killedBefore === undefined ? what.replace(/\d+/g, 'n') : `${operation} ${file.split('/')[0] ?? ''}`;
        killedBefore.set(kind, (killedBefore.get(kind) ?? 0) + 1);
        rmSync(directory, { recursive: true, force: true });
      }
      rmSync(root, { recursive: true, force: true });
      t.diagnostic(
        `${total} I/O steps in an uninterrupted repair; ${kills.length} kills, before: ${JSON.stringify(Object.fromEntries(killedBefore))}`,
      );
      const killed = kills.length - (killedBefore.get('finished first') ?? 0);
      assert.ok(killed >= 10, `only ${killed} of ${kills.length} repairs were killed before they finished`);
    } finally {
      for (const reader of fixture.readers) await reader.close();
    }
  },
);
