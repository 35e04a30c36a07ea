import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SiltError, MANIFEST_FILE, WRITER_BOOKKEEPING_FILES, sequenceOfLogFile } from '@silt/fs';
import { ReadOnlyIndex } from '@silt/reader';
import { Manifest } from '@silt/segments';
import { parseLogFile } from '@silt/wal';
import { Index } from './index-handle.js';
import { repairIndex, type RepairReport } from './repair.js';
import { buildDamageFixture, heldSequences, type DamageFixture } from './test-support/damage-fixture.js';
import { applyDamage, DAMAGES, damageTargets, flipOffset, type Damage, type DamageTarget } from './test-support/file-damage.js';
import { snapshotDirectory, tempDir } from '@silt/test-support';
import { verifyInProcess } from './test-support/verify-in-process.js';
import { describeDifference, readServedState, sameState } from './test-support/write-model.js';
import { writerStats } from './test-support/writer-stats.js';

/**
 * The damage campaign: an index as a killed writer leaves it (several
 * segments, a merge whose inputs a reader's lease keeps, several log
 * files, writes only in the log, a stale writer.pid, an unfinished build),
 * then every damage (delete, truncate to 0 or half, a flipped byte at the
 * start, middle or end, another file of the same kind copied over it) to
 * every file, one at a time, each on fresh copies. Each of `Index.open`,
 * `ReadOnlyIndex.open` and `silt verify` must give every acknowledged write
 * back exactly or fail with a typed SiltError; must not serve a wrong
 * value, hang, or delete a file it cannot prove obsolete; a refused open
 * changes nothing. `repairIndex` then must recover exactly what the files
 * it kept hold: every write whose sequence number its report does not
 * call lost. SOAK=1 runs more fixtures (other seeds: other keys, sizes,
 * file boundaries).
 */

const SOAK = process.env.SOAK === '1';
/** SILT_DAMAGE_SEEDS=2,5 runs those fixtures only (to look again at a failure). */
const SEEDS = process.env.SILT_DAMAGE_SEEDS?.split(',').map(Number) ?? (SOAK ? [20250701, 1, 2, 3, 4, 5] : [20250701]);

/** Odd seeds write the unflushed log in 'fsync' mode (each record vouching for the bytes before it), even ones in 'write' mode. */
function logDurabilityOf(seed: number): 'fsync' | 'write' {
  return seed % 2 === 1 ? 'fsync' : 'write';
}
/** A call that takes this long hangs: a failure, not a wait. */
const CALL_TIMEOUT_MS = 60_000;
const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1, autoMerge: false } as const;

interface CaseOutcome {
  readonly open: string;
  readonly reader: string;
  readonly verify: string;
  readonly repair: string;
}

/** What one damaged case must hold; every check adds to `failures` instead of stopping the campaign. */
class DamageCase {
  readonly failures: string[] = [];
  readonly notes: string[] = [];

  constructor(
    readonly fixture: DamageFixture,
    readonly target: DamageTarget,
    readonly damage: Damage,
    private readonly root: string,
  ) {}

  get name(): string {
    return `${this.damage} ${this.target.file}`;
  }

  /** A fresh damaged copy of the fixture, or undefined when the damage does not apply to the file. */
  copy(label: string): string | undefined {
    const directory = join(this.root, label);
    cpSync(this.fixture.directory, directory, { recursive: true });
    return applyDamage(directory, this.target, this.damage) ? directory : undefined;
  }

  fail(what: string): void {
    this.failures.push(`${this.name}: ${what}`);
  }

  /**
   * Damage to the end of the newest log file: the file deleted or cut, or
   * a byte of its last record flipped. A crash's torn write looks the same
   * (nothing intact follows), and nothing outside the file records how far
   * it went, so losing what it held cannot be told from a crash.
   */
  get tearsLogTail(): boolean {
    const { target, damage } = this;
    if (!target.newestLog) return false;
    if (damage === 'delete' || damage === 'truncate-to-0' || damage === 'truncate-to-half') return true;
    const flipped = flipOffset(damage, statSync(join(this.fixture.directory, target.file)).size);
    return flipped !== undefined && target.lastRecordOffset !== undefined && flipped >= target.lastRecordOffset;
  }

  /** The log files or the writer's acknowledged marker, which is what readers tail by. */
  get hitsLog(): boolean {
    return this.target.kind === 'log' || this.target.kind === 'log-marker';
  }

  get hitsManifest(): boolean {
    return this.target.kind === 'manifest' || this.target.kind === 'manifest-wal' || this.target.kind === 'manifest-shm';
  }
}

function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A refusal must be a typed SiltError; anything else is a failure. Returns the outcome's words. */
function refusal(damageCase: DamageCase, who: string, error: unknown): string {
  if (!(error instanceof SiltError)) {
    damageCase.fail(`${who} threw something other than a SiltError: ${describeError(error)}`);
    return `THREW ${error instanceof Error ? error.name : typeof error}`;
  }
  return `refused ${error.code}`;
}

/** Files of `was` changed or gone in `now`. */
function changes(was: Record<string, string>, now: Record<string, string>): Array<{ file: string; gone: boolean }> {
  return Object.keys(was)
    .filter((file) => now[file] !== was[file])
    .map((file) => ({ file, gone: now[file] === undefined }));
}

/**
 * What the manifest says (generation, covered sequence, live segments,
 * every id it names, the next id), read from a copy of `manifest.sqlite`
 * and its `-wal`; undefined when it cannot be read. SQLite checkpoints the
 * `-wal` into the main file and removes it when the last connection
 * closes, whoever opened it (a reader, verify, a refused writer): the bytes
 * change, what they say must not.
 */
function manifestContent(directory: string): string | undefined {
  const scratch = mkdtempSync(join(tmpdir(), 'silt-manifest-read-'));
  try {
    for (const name of [MANIFEST_FILE, `${MANIFEST_FILE}-wal`]) {
      if (existsSync(join(directory, name))) cpSync(join(directory, name), join(scratch, name));
    }
    const manifest = Manifest.open(join(scratch, MANIFEST_FILE), { role: 'reader' });
    try {
      const current = manifest.current();
      return JSON.stringify({
        generation: current.generation,
        covered: current.walCoveredSequence,
        live: current.segments.map((segment) => [segment.file, segment.bytes, segment.minSequence, segment.maxSequence]),
        named: manifest.segmentIds(),
        next: manifest.nextSegmentId(),
      });
    } finally {
      manifest.close();
    }
  } catch {
    return undefined;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A directory's bytes, and what its manifest says, before something that must not change them runs. */
interface Before {
  readonly files: Record<string, string>;
  readonly manifest: string | undefined;
}

function before(directory: string): Before {
  return { files: snapshotDirectory(directory), manifest: manifestContent(directory) };
}

const WRITER_BOOKKEEPING: ReadonlySet<string> = new Set(WRITER_BOOKKEEPING_FILES);

/**
 * What refused opens, readers and verify may change: nothing, but for the
 * manifest's bytes when what it says stays the same (see manifestContent),
 * and the writer's bookkeeping (`WRITER_BOOKKEEPING_FILES` of @silt/fs).
 */
function checkUnchanged(damageCase: DamageCase, who: string, was: Before, directory: string): void {
  const problems: string[] = [];
  for (const { file, gone } of changes(was.files, snapshotDirectory(directory))) {
    if (WRITER_BOOKKEEPING.has(file)) continue;
    if (file === `${MANIFEST_FILE}-wal` || (file === MANIFEST_FILE && !gone)) continue;
    problems.push(`${gone ? 'deleted' : 'changed'} ${file}`);
  }
  if (was.manifest !== undefined && manifestContent(directory) !== was.manifest) problems.push(`changed what ${MANIFEST_FILE} says`);
  if (problems.length > 0) damageCase.fail(`${who} ${problems.join(', ')}`);
}

const MANIFEST_FILES = new Set([MANIFEST_FILE, `${MANIFEST_FILE}-wal`]);

/** What the index's manifest says once a writer or repair is done: the live segment files and the covered sequence. */
function finalManifest(directory: string): { live: Set<string>; covered: number } {
  const manifest = Manifest.open(join(directory, MANIFEST_FILE), { role: 'reader' });
  try {
    const current = manifest.current();
    return { live: new Set(current.segments.map((segment) => segment.file)), covered: current.walCoveredSequence };
  } finally {
    manifest.close();
  }
}

/** The last sequence number each log file's intact records reach (undefined: none), read before anything ran. */
function logLastSequences(directory: string): Map<string, number | undefined> {
  const lasts = new Map<string, number | undefined>();
  const wal = join(directory, 'wal');
  for (const name of existsSync(wal) ? readdirSync(wal) : []) {
    const firstSequence = sequenceOfLogFile(name);
    if (firstSequence === undefined) continue;
    const parsed = parseLogFile(readFileSync(join(wal, name)), { file: name, firstSequence, isLast: true });
    lasts.set(`wal/${name}`, parsed.records.at(-1)?.lastSeq);
  }
  return lasts;
}

/**
 * Why a file a writer or repair removed was provably obsolete, or
 * undefined: a temp file, a log file every record of which the final
 * manifest covers, a segment the final generation does not use (merged or
 * never committed; the state check proves nothing it held was needed), the
 * pid file a lock rewrites, SQLite's -wal once checkpointed.
 */
function whyGone(
  file: string,
  final: { live: Set<string>; covered: number },
  logLasts: Map<string, number | undefined>,
): string | undefined {
  if (file.endsWith('.tmp')) return 'temp';
  if (WRITER_BOOKKEEPING.has(file) || file === `${MANIFEST_FILE}-wal`) return 'bookkeeping';
  if (file.startsWith('wal/')) {
    const last = logLasts.get(file);
    return last === undefined || last <= final.covered ? 'covered log' : undefined;
  }
  if (file.startsWith('segments/')) return final.live.has(file) ? undefined : 'unused segment';
  return undefined;
}

async function checkWriterOpen(damageCase: DamageCase): Promise<string> {
  const { model } = damageCase.fixture;
  const directory = damageCase.copy('open');
  if (directory === undefined) return 'n/a';
  const was = before(directory);
  const logLasts = logLastSequences(directory);
  let index: Index;
  try {
    index = await bounded(Index.open(directory, NO_TIMER), 'Index.open');
  } catch (error) {
    const outcome = refusal(damageCase, 'Index.open', error);
    checkUnchanged(damageCase, 'a refused Index.open', was, directory);
    return outcome;
  }
  let outcome: string;
  try {
    const served = readServedState(index, model.allKeys);
    const full = model.stateAt(model.lastSequence);
    if (sameState(served, full)) outcome = 'all';
    else {
      const prefix = model.prefixMatching(served);
      outcome = prefix === undefined ? 'WRONG' : `prefix ${prefix}`;
      if (prefix === undefined)
        damageCase.fail(`Index.open served values no prefix of the writes gives: ${describeDifference(full, served)}`);
      else if (!damageCase.tearsLogTail || prefix < damageCase.fixture.coveredSequence) {
        damageCase.fail(`Index.open lost acknowledged writes ${prefix + 1}–${model.lastSequence} without an error`);
      }
    }
    const { log } = writerStats(index).recovery;
    if (log.tornTail !== undefined) outcome += ' (torn tail cut)';
    await bounded(index.flush(), 'flush after open');
  } finally {
    await bounded(index.close(), 'close after open');
  }
  const final = finalManifest(directory);
  for (const { file, gone } of changes(was.files, snapshotDirectory(directory))) {
    if (gone && whyGone(file, final, logLasts) !== undefined) continue;
    if (!gone && (MANIFEST_FILES.has(file) || WRITER_BOOKKEEPING.has(file))) continue;
    // A torn tail cut off the newest log file (the log's own rule, reported in stats().recovery).
    if (!gone && file === damageCase.target.file && outcome.includes('torn tail cut')) continue;
    damageCase.fail(`Index.open ${gone ? 'deleted' : 'changed'} ${file}, not provably obsolete`);
  }
  return outcome;
}

/**
 * A reader serves a committed generation (any, when the manifest itself was
 * hit, else the current one) and, past it, the acknowledged log records it
 * tailed: the state after exactly the writes up to its visibleSequence,
 * never past the last acknowledged one. With the log and its marker
 * untouched, it tails to the end.
 */
async function checkReaderOpen(damageCase: DamageCase): Promise<string> {
  const { model, committedCovers, coveredSequence } = damageCase.fixture;
  const directory = damageCase.copy('reader');
  if (directory === undefined) return 'n/a';
  const was = before(directory);
  let outcome: string;
  try {
    const reader = await bounded(ReadOnlyIndex.open(directory, { watch: false }), 'ReadOnlyIndex.open');
    try {
      const served = readServedState(reader, model.allKeys);
      const { coveredSequence: cover, visibleSequence: visible } = reader.stats();
      const knownGeneration = committedCovers.includes(cover);
      const tailedPrefix = visible >= cover && visible <= model.lastSequence && sameState(model.stateAt(visible), served);
      outcome = `${cover === coveredSequence ? 'current' : `generation covering ${cover}`}, visible ${visible}`;
      if (!knownGeneration || !tailedPrefix) {
        const what = `covering ${cover}, visible ${visible}: ${describeDifference(model.stateAt(Math.min(visible, model.lastSequence)), served)}`;
        damageCase.fail(`ReadOnlyIndex served a state no committed generation and acknowledged log prefix gives: ${what}`);
      } else if (cover !== coveredSequence && !damageCase.hitsManifest) {
        damageCase.fail(`ReadOnlyIndex served the generation covering ${cover}, not the current one (${coveredSequence})`);
      } else if (visible < model.lastSequence && !damageCase.hitsLog) {
        damageCase.fail(
          `ReadOnlyIndex tailed to ${visible}, not to the last acknowledged write ${model.lastSequence}, with the log intact`,
        );
      }
    } finally {
      await reader.close();
    }
  } catch (error) {
    outcome = refusal(damageCase, 'ReadOnlyIndex.open', error);
  }
  checkUnchanged(damageCase, 'ReadOnlyIndex', was, directory);
  return outcome;
}

async function checkVerify(damageCase: DamageCase): Promise<string> {
  const directory = damageCase.copy('verify');
  if (directory === undefined) return 'n/a';
  const was = before(directory);
  let outcome: string;
  try {
    const { exitCode, report } = await bounded(verifyInProcess(directory), 'silt verify');
    outcome = `exit ${exitCode}`;
    if (exitCode !== 0 && exitCode !== 1) damageCase.fail(`silt verify exited ${exitCode}`);
    if ((exitCode === 0) !== report.ok) damageCase.fail(`silt verify exited ${exitCode} with ok: ${report.ok}`);
  } catch (error) {
    outcome = refusal(damageCase, 'silt verify', error);
  }
  checkUnchanged(damageCase, 'silt verify', was, directory);
  return outcome;
}

function reportsLost(report: RepairReport, sequence: number): boolean {
  return report.lost.some((range) => sequence >= range.from && sequence <= range.to);
}

/**
 * Repair must recover exactly what the files still hold (every segment
 * file and log record of the fixture whose bytes are still there), and
 * its report must say exactly which sequence numbers up to the last one
 * held are lost. Writes past that are in no file left (a deleted or cut
 * newest log file): no report can name them. Every file is still in place
 * or in lost+found, unless the reopened writer proved it obsolete.
 */
async function checkRepair(damageCase: DamageCase): Promise<string> {
  const { model } = damageCase.fixture;
  const directory = damageCase.copy('repair');
  if (directory === undefined) return 'n/a';
  const was = snapshotDirectory(directory);
  const logLasts = logLastSequences(directory);
  const { held, last } = heldSequences(directory, damageCase.fixture);
  let report: RepairReport;
  try {
    report = await bounded(repairIndex(directory), 'repairIndex');
  } catch (error) {
    damageCase.fail(`repairIndex failed: ${describeError(error)}`);
    return refusal(damageCase, 'repairIndex', error);
  }
  const lostCount = model.writes.filter((write) => !held[write.sequence]).length;
  let outcome =
    lostCount === 0 ? 'all' : `lost ${lostCount}${model.lastSequence > last ? ` (${model.lastSequence - last} past every file)` : ''}`;
  if (report.lastKnownSequence !== last)
    damageCase.fail(`repair says the files hold up to ${report.lastKnownSequence}; they hold up to ${last}`);
  const misreported = model.writes
    .filter((write) => write.sequence <= last && reportsLost(report, write.sequence) === held[write.sequence])
    .map((write) => write.sequence);
  if (misreported.length > 0) {
    damageCase.fail(
      `repair's lost ranges ${JSON.stringify(report.lost.map((range) => [range.from, range.to]))} misstate sequence numbers ${misreported.slice(0, 8).join(', ')}${misreported.length > 8 ? ', ...' : ''}`,
    );
  }
  try {
    const index = await bounded(Index.open(directory, NO_TIMER), 'Index.open after repair');
    try {
      const served = readServedState(index, model.allKeys);
      const expected = model.stateWithout((sequence) => !held[sequence]);
      if (!sameState(served, expected)) {
        damageCase.fail(
          `after repair (lost ${JSON.stringify(report.lost)}, last known ${report.lastKnownSequence}): ${describeDifference(expected, served)}`,
        );
        outcome += ' WRONG';
      }
    } finally {
      await index.close();
    }
  } catch (error) {
    damageCase.fail(`the repaired index does not open: ${describeError(error)}`);
    return `${outcome}, then ${refusal(damageCase, 'Index.open after repair', error)}`;
  }
  const after = snapshotDirectory(directory);
  const hashesAfter = new Set(Object.values(after));
  const final = finalManifest(directory);
  for (const [file, hash] of Object.entries(was)) {
    if (after[file] === hash || hashesAfter.has(hash)) continue;
    if (after[file] === undefined && whyGone(file, final, logLasts) !== undefined) continue;
    if (WRITER_BOOKKEEPING.has(file)) continue;
    damageCase.fail(`repair lost ${file}: its bytes are neither in place nor in lost+found`);
  }
  return outcome;
}

async function runCase(damageCase: DamageCase): Promise<CaseOutcome> {
  const guard = async (who: string, check: () => Promise<string>): Promise<string> => {
    try {
      return await check();
    } catch (error) {
      damageCase.fail(`${who}: ${describeError(error)}`);
      return 'ERROR';
    }
  };
  return {
    open: await guard('open', () => checkWriterOpen(damageCase)),
    reader: await guard('reader', () => checkReaderOpen(damageCase)),
    verify: await guard('verify', () => checkVerify(damageCase)),
    repair: await guard('repair', () => checkRepair(damageCase)),
  };
}

test(
  'every damage to every file of an index: open, a reader and verify recover every acknowledged write or refuse with a typed error and change nothing; repair recovers all its report does not call lost',
  { timeout: SOAK ? Number.POSITIVE_INFINITY : 600_000 },
  async (t) => {
    let cases = 0;
    let skipped = 0;
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (const seed of SEEDS) {
      const fixture = await buildDamageFixture(join(tempDir(`damage-${seed}`), 'idx'), seed, logDurabilityOf(seed));
      try {
        const targets = damageTargets(fixture.directory, fixture.olderManifest);
        t.diagnostic(
          `seed ${seed} (${logDurabilityOf(seed)} log): ${fixture.model.lastSequence} writes, covered ${fixture.coveredSequence}; files: ${targets.map((target) => target.file).join(' ')}`,
        );
        for (const target of targets) {
          for (const damage of DAMAGES) {
            const root = mkdtempSync(join(tmpdir(), 'silt-damage-case-'));
            const damageCase = new DamageCase(fixture, target, damage, root);
            const outcome = await runCase(damageCase);
            if (Object.values(outcome).every((value) => value === 'n/a')) {
              skipped++;
              rmSync(root, { recursive: true, force: true });
              continue;
            }
            cases++;
            const line = `${damageCase.name}: open ${outcome.open}; reader ${outcome.reader}; verify ${outcome.verify}; repair ${outcome.repair}`;
            if (SOAK || damageCase.failures.length > 0 || process.env.SILT_DAMAGE_VERBOSE === '1') t.diagnostic(line);
            const kind = `${target.kind}/${damage}: open ${outcome.open.replace(/\d+/g, 'n')}; reader ${outcome.reader.replace(/\d+/g, 'n')}; verify ${outcome.verify}; repair ${outcome.repair.replace(/\d+/g, 'n')}`;
            tally.set(kind, (tally.get(kind) ?? 0) + 1);
            if (damageCase.failures.length > 0) failures.push(...damageCase.failures, `  (case files kept in ${root})`);
            else rmSync(root, { recursive: true, force: true });
          }
        }
      } finally {
        for (const reader of fixture.readers) await reader.close();
      }
    }
    for (const [kind, count] of [...tally].sort()) t.diagnostic(`${count} × ${kind}`);
    t.diagnostic(
      `${cases} damage cases (${skipped} damages did not apply to their file), ${failures.length === 0 ? 'all held' : 'FAILURES below'}`,
    );
    assert.deepEqual(failures, []);
  },
);
