import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '@silt/fs/internal';
import type { Durability } from './wal-options.js';
import { WriteAheadLog } from './write-ahead-log.js';
import { makeTempDir } from './test-support/temp-dir.js';
import { checkRecoveredLog, collect, type Acked } from './test-support/workload.js';

/**
 * Process crash, for real: a child appends under load and prints every
 * acknowledged batch; the parent SIGKILLs it at a random moment, reopens the
 * log and checks that every acknowledged batch is there, in order, with its
 * exact content, and that the log is a prefix of what was issued. 'write'
 * mode must survive this (the OS has the bytes); some runs use 'fsync'.
 */

const SOAK = process.env.SOAK === '1';
const KILLS = SOAK ? 400 : 50;
const KILLS_PER_DIRECTORY = 10;
const CHILD = fileURLToPath(new URL('./test-support/wal-child.js', import.meta.url));

interface ChildRun {
  readonly readyAt: number;
  readonly acked: Acked[];
}

/** The kill lands after this many acknowledgements: a random point of the stream, whatever the machine's speed. */
const MIN_ACKS_BEFORE_KILL = 20;
const MAX_ACKS_BEFORE_KILL = 2000;

async function runAndKill(dir: string, durability: Durability, seed: number, random: SeededRandom): Promise<ChildRun> {
  const config = { dir, durability, seed, maxFileBytes: random.pick([16 * 1024, 64 * 1024, 1024 * 1024]) };
  const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killAfterLines = 1 + random.intBetween(MIN_ACKS_BEFORE_KILL, MAX_ACKS_BEFORE_KILL); // the ready line, then acks
  let stdout = '';
  let stderr = '';
  let lines = 0;
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const enoughLines = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (let at = chunk.indexOf('\n'); at >= 0; at = chunk.indexOf('\n', at + 1)) lines++;
      if (lines >= killAfterLines) resolve();
    });
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const early = await Promise.race([exited, enoughLines]);
  if (early !== undefined) assert.fail(`child exited after ${lines} lines, before it was killed (${String(early)}): ${stderr}`);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', `the child must die by SIGKILL, not on its own: ${stderr}`);
  return parseChildOutput(stdout);
}

/** Complete lines only: the kill may cut the last one short. */
function parseChildOutput(stdout: string): ChildRun {
  const lines = stdout.split('\n').slice(0, -1);
  const [ready, ...acks] = lines;
  const readyMatch = /^ready (\d+)$/.exec(ready ?? '');
  assert.ok(readyMatch !== null, `first line should be ready, got ${ready}`);
  const acked = acks.map((line) => {
    const match = /^ack (\d+) (\d+)$/.exec(line);
    assert.ok(match !== null, `unexpected child output: ${line}`);
    return { firstSeq: Number(match[1]), count: Number(match[2]) };
  });
  return { readyAt: Number(readyMatch[1]), acked };
}

test(`every acknowledged batch survives ${KILLS} SIGKILLs of a writer under load`, async () => {
  const random = new SeededRandom(Number(process.env.WAL_KILL_SEED ?? 20240611));
  let dir = makeTempDir('kill');
  let acked: Acked[] = [];
  let verifiedThrough = 0;
  let totalAcked = 0;
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill > 0 && kill % KILLS_PER_DIRECTORY === 0) {
        dir.remove();
        dir = makeTempDir('kill');
        acked = [];
        verifiedThrough = 0;
      }
      const durability: Durability = kill % 4 === 3 ? 'fsync' : 'write';
      const run = await runAndKill(dir.path, durability, random.intBetween(1, 2 ** 31), random);
      assert.equal(run.readyAt, verifiedThrough, 'the child continued where the verified log ended');
      acked.push(...run.acked);
      totalAcked += run.acked.length;
      const wal = await WriteAheadLog.open(dir.path);
      try {
        const records = await collect(wal.replay());
        const summary = checkRecoveredLog(records, { startsAt: 1, acked });
        assert.equal(wal.lastSequence, records.length === 0 ? 0 : summary.last);
        verifiedThrough = wal.lastSequence;
      } catch (error) {
        throw new Error(`kill ${kill} (${durability}) in ${dir.path}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      } finally {
        await wal.close();
      }
    }
    assert.ok(totalAcked >= KILLS * MIN_ACKS_BEFORE_KILL, `the children acknowledged ${totalAcked} batches in all`);
  } finally {
    dir.remove();
  }
});
