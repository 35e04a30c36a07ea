import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTemporaryName, MANIFEST_FILE, WRITER_PID_FILE, sequenceOfLogFile } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { ReadOnlyIndex } from '@silt/reader';
import { SegmentReader } from '@silt/segments';
import { parseLogFile, WriteAheadLog } from '@silt/wal';
import { Index } from '../index-handle.js';
import { WriteModel } from './write-model.js';
import { writerStats } from './writer-stats.js';

/** Small log files, so the log is several files and flushes delete some. */
export const FIXTURE_WAL_FILE_BYTES = 1024;
const KEYS = 48;
const OPERATIONS_PER_FLUSH = 36;
/** Unflushed records written straight to the log after the writer is gone, and operations in each. */
const UNFLUSHED_RECORDS = 8;
const OPERATIONS_PER_RECORD = 4;
const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

/** A built index to damage, the model of its writes and what its manifest said at each commit. */
export interface DamageFixture {
  readonly directory: string;
  readonly model: WriteModel;
  /** The covered sequence of every generation committed, ascending: what a reader of any of them serves. */
  readonly committedCovers: readonly number[];
  /** The covered sequence of the current generation. */
  readonly coveredSequence: number;
  /** A whole copy of the manifest taken after the first flush: a rolled-back manifest to copy over the current one. */
  readonly olderManifest: string;
  /** Readers that keep leases on the fixture's manifest while the campaign runs (the oldest one pins a merge's inputs). */
  readonly readers: readonly ReadOnlyIndex[];
  /** What each piece of the fixture holds, to tell what a damaged copy still holds. */
  readonly pieces: readonly HeldPiece[];
}

/**
 * A sequence range some bytes of the fixture hold whole: a segment file
 * (its writes' newest versions in the range) or a log record. A damaged
 * copy still holds the range if it still has those exact bytes anywhere
 * in the same directory.
 */
export interface HeldPiece {
  readonly kind: 'segment' | 'log';
  readonly bytes: Buffer;
  readonly from: number;
  readonly to: number;
}

/**
 * Builds the index a damage campaign copies for every case: what a writer
 * killed in the middle of its life leaves. Five flushes (three of them
 * merged into one segment whose inputs stay on disk, leased by a reader
 * still open), several log files, writes only in the log past the covered
 * sequence (written by the log alone, with no flush after), a `writer.pid`
 * naming a dead process, an unfinished segment build (`.seg.tmp`), and a
 * reader lease the manifest's `-wal` holds. Every write is recorded with
 * its sequence number in the model. The unflushed records are written in
 * 'fsync' mode by default, so each carries a synced offset that vouches for
 * the bytes before it.
 */
export async function buildDamageFixture(
  directory: string,
  seed: number,
  logDurability: 'write' | 'fsync' = 'fsync',
): Promise<DamageFixture> {
  const random = new SeededRandom(seed);
  const model = new WriteModel();
  const committedCovers = [0];
  const readers: ReadOnlyIndex[] = [];
  const olderManifest = `${directory}-older-${MANIFEST_FILE}`;
  let index = await Index.open(directory, { ...NO_TIMER, walFileBytes: FIXTURE_WAL_FILE_BYTES, autoMerge: false });
  try {
    await writeSome(index, model, random, OPERATIONS_PER_FLUSH);
    await index.flush();
    committedCovers.push(index.stats().coveredSequence);
    // A whole manifest of an older generation: closing checkpoints it into the main file.
    await index.close();
    copyFileSync(join(directory, MANIFEST_FILE), olderManifest);
    index = await Index.open(directory, { ...NO_TIMER, walFileBytes: FIXTURE_WAL_FILE_BYTES, autoMerge: false });
    for (let flush = 0; flush < 2; flush++) {
      await writeSome(index, model, random, OPERATIONS_PER_FLUSH);
      await index.flush();
      committedCovers.push(index.stats().coveredSequence);
    }
    // This reader's lease keeps the three segments the merge replaces.
    readers.push(await ReadOnlyIndex.open(directory, { watch: false }));
    await index.forceMerge(1);
    for (let flush = 0; flush < 2; flush++) {
      await writeSome(index, model, random, OPERATIONS_PER_FLUSH);
      await index.flush();
      committedCovers.push(index.stats().coveredSequence);
    }
    checkSequences(index, model);
  } finally {
    await index.close();
  }
  await appendUnflushed(directory, model, random, logDurability);
  writeDeadWriterPid(directory);
  leaveUnfinishedBuild(directory);
  // Opened after the writer's last checkpoint: its lease lives in manifest.sqlite-wal.
  readers.push(await ReadOnlyIndex.open(directory, { watch: false }));
  return {
    directory,
    model,
    committedCovers,
    coveredSequence: committedCovers.at(-1)!,
    olderManifest,
    readers,
    pieces: heldPieces(directory),
  };
}

/** Every segment file and every log record of the fixture, with the sequence range it holds. */
function heldPieces(directory: string): HeldPiece[] {
  const pieces: HeldPiece[] = [];
  const segments = join(directory, 'segments');
  for (const name of readdirSync(segments).filter((entry) => !isTemporaryName(entry))) {
    const reader = SegmentReader.open(join(segments, name));
    try {
      const { minSequence, maxSequence } = reader.stats();
      pieces.push({ kind: 'segment', bytes: readFileSync(join(segments, name)), from: minSequence, to: maxSequence });
    } finally {
      reader.close();
    }
  }
  const wal = join(directory, 'wal');
  for (const name of readdirSync(wal)) {
    const firstSequence = sequenceOfLogFile(name);
    if (firstSequence === undefined) continue;
    const bytes = readFileSync(join(wal, name));
    const parsed = parseLogFile(bytes, { file: name, firstSequence, isLast: true });
    if (parsed.end.kind !== 'clean') throw new Error(`the fixture's log file ${name} does not parse whole`);
    for (const record of parsed.records) {
      pieces.push({
        kind: 'log',
        bytes: bytes.subarray(record.offset, record.offset + record.length),
        from: record.firstSeq,
        to: record.lastSeq,
      });
    }
  }
  return pieces;
}

/**
 * Sets (mostly) and deletes of a few keys, one awaited call at a time so the model counts sequence numbers as the index does; every
 * sixth an mset.
 */
async function writeSome(index: Index, model: WriteModel, random: SeededRandom, operations: number): Promise<void> {
  for (let done = 0; done < operations;) {
    const key = keyName(random.intBetween(0, KEYS - 1));
    if (done % 6 === 5) {
      const other = keyName((Number(key.slice(1)) + 1) % KEYS);
      const first = `v${model.lastSequence + 1}`;
      const second = `v${model.lastSequence + 2}`;
      await index.mset([
        [key, first],
        [other, second],
      ]);
      model.record(key, first);
      model.record(other, second);
      done += 2;
    } else if (random.chance(0.2)) {
      await index.delete(key);
      model.record(key, undefined);
      done++;
    } else {
      const value = `v${model.lastSequence + 1}`;
      await index.set(key, value);
      model.record(key, value);
      done++;
    }
  }
}

function keyName(n: number): string {
  return `k${String(n).padStart(3, '0')}`;
}

function checkSequences(index: Index, model: WriteModel): void {
  const { lastSequence } = writerStats(index);
  if (lastSequence !== model.lastSequence) throw new Error(`the model counted ${model.lastSequence} writes, the index ${lastSequence}`);
}

/** Records past the covered sequence, written by the log alone as a writer killed before its next flush leaves them. */
async function appendUnflushed(directory: string, model: WriteModel, random: SeededRandom, durability: 'write' | 'fsync'): Promise<void> {
  const wal = await WriteAheadLog.open(join(directory, 'wal'), {
    nextSequence: model.lastSequence + 1,
    maxFileBytes: FIXTURE_WAL_FILE_BYTES,
    durability,
  });
  try {
    for (let record = 0; record < UNFLUSHED_RECORDS; record++) {
      const entries = Array.from({ length: OPERATIONS_PER_RECORD }, (_, i) => {
        const key = keyName((random.intBetween(0, KEYS / OPERATIONS_PER_RECORD - 1) * OPERATIONS_PER_RECORD + i) % KEYS);
        // Long values, so the records fill several log files.
        return random.chance(0.15)
          ? { kind: 'delete' as const, key }
          : { kind: 'put' as const, key, value: `v${model.lastSequence + i + 1}:${'x'.repeat(60)}` };
      });
      await wal.append(entries);
      for (const entry of entries) model.record(entry.key, entry.kind === 'put' ? entry.value : undefined);
    }
    if (wal.lastSequence !== model.lastSequence) throw new Error(`the log ends at ${wal.lastSequence}, the model at ${model.lastSequence}`);
  } finally {
    await wal.close();
  }
}

/** The pid file a SIGKILLed writer leaves, naming a process that has exited. */
function writeDeadWriterPid(directory: string): void {
  const exited = spawnSync(process.execPath, ['-e', '']);
  writeFileSync(join(directory, WRITER_PID_FILE), `${JSON.stringify({ pid: exited.pid, acquiredAt: Date.now() })}\n`);
}

/** Half a segment under a temp name: a build killed before its rename. */
function leaveUnfinishedBuild(directory: string): void {
  const segments = join(directory, 'segments');
  const [some] = readdirSync(segments).sort();
  const bytes = readFileSync(join(segments, some!));
  writeFileSync(join(segments, `999.seg.tmp`), bytes.subarray(0, bytes.length >> 1));
}

/**
 * Which sequence numbers a damaged copy of the fixture still holds: those
 * of every piece (segment file, log record) whose exact bytes are still in
 * a file of its kind, wherever; and the last of them.
 */
export function heldSequences(directory: string, fixture: DamageFixture): { held: boolean[]; last: number } {
  const segments = nonEmptyFiles(join(directory, 'segments'));
  const logs = nonEmptyFiles(join(directory, 'wal'));
  const held = new Array<boolean>(fixture.model.lastSequence + 1).fill(false);
  let last = 0;
  for (const piece of fixture.pieces) {
    const still =
      piece.kind === 'segment' ? segments.some((bytes) => bytes.equals(piece.bytes)) : logs.some((bytes) => bytes.includes(piece.bytes));
    if (!still) continue;
    for (let sequence = piece.from; sequence <= piece.to; sequence++) held[sequence] = true;
    last = Math.max(last, piece.to);
  }
  return { held, last };
}

function nonEmptyFiles(directory: string): Buffer[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !isTemporaryName(entry.name))
    .map((entry) => readFileSync(join(directory, entry.name)))
    .filter((bytes) => bytes.length > 0);
}
