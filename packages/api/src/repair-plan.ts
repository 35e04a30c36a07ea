/**
 * What `silt repair` does with the files it found, decided without I/O so
 * that every case can be tested on its own: which segments make the new
 * manifest, which log records are built into new segments, which sequence
 * numbers are lost, and what is set aside. The
 * manifest itself is not trusted: the plan is made from the segment files
 * (each footer records the sequence range it covers) and the log.
 */

import { SEGMENTS_DIRECTORY, segmentFileName, segmentIdOfBuildName, WAL_DIRECTORY } from '@silt/fs';
import type { IntactLogRecord, LogDamage } from '@silt/wal/internal';

/** A segment file whose every checksum verified. */
export interface SoundSegment {
  readonly name: string;
  readonly id: number;
  readonly minSequence: number;
  readonly maxSequence: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly bytes: number;
  readonly minKey: Uint8Array;
  readonly maxKey: Uint8Array;
}

/** A segment file that cannot be trusted, and why. */
export interface DamagedSegment {
  readonly name: string;
  readonly id: number;
  readonly problem: string;
}

/** One log file as scanned: every intact record in it, and where it stops verifying. */
export interface LogFileFacts {
  readonly name: string;
  /** The sequence number in its name. */
  readonly firstSequence: number;
  readonly bytes: number;
  /** Every record whose checksum verifies, in file order, past damage too. */
  readonly records: readonly IntactLogRecord[];
  /** Where records stop verifying (damage, a torn write, a record out of sequence); empty for a sound file. */
  readonly damage: readonly LogDamage[];
}

export interface RepairInventory {
  readonly segments: readonly SoundSegment[];
  readonly damagedSegments: readonly DamagedSegment[];
  /** Temp files in `segments/`: unfinished builds. */
  readonly temporaryFiles: readonly string[];
  /** Oldest first. */
  readonly logFiles: readonly LogFileFacts[];
}

/** A file set aside in lost+found, and why. */
export interface SetAside {
  readonly file: string;
  readonly why: string;
}

/** Sequence numbers no file the repair uses holds. */
export interface LostRange {
  readonly from: number;
  readonly to: number;
  readonly why: string;
}

/** Where one log record's bytes are: a file in `wal/` and the record's place in it. */
export interface LogRecordSource {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
}

/** A segment the repair builds from intact log records: every operation from `from` to `to`. */
export interface LogSegmentPlan {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  /**
   * The records holding those operations, in sequence order, one after another without a hole (the first and last may reach past the
   * range).
   */
  readonly records: readonly LogRecordSource[];
}

export interface RepairPlan {
  /** Segment files the new manifest keeps, oldest first. */
  readonly segments: readonly SoundSegment[];
  /** Segments to build from the log, for what no kept segment covers; oldest first. */
  readonly logSegments: readonly LogSegmentPlan[];
  /** The new manifest's covered sequence: the last sequence number recovered. Every log file is set aside, so the log starts after it. */
  readonly coveredSequence: number;
  readonly setAside: readonly SetAside[];
  readonly lost: readonly LostRange[];
  /** The highest sequence number any file holds: what an index without damage would have. */
  readonly lastKnownSequence: number;
  /** Past every id seen and every id the plan builds, so no new segment takes the name of one set aside. */
  readonly nextSegmentId: number;
}

/**
 * Keeps the disjoint sound segments that cover the most sequence numbers,
 * then recovers every intact log record they do not cover into new
 * segments, one per stretch without a hole: past the segments, and in
 * holes between them too. A damaged log record, a log file gone, or a gap
 * in both segments and log is a lost range; what lies beyond it is still
 * recovered (its writes come after the lost ones, as they did). Every log
 * file is then set aside whole: the recovered records live in segments,
 * and the log starts empty past them.
 */
export function planRepair(inventory: RepairInventory): RepairPlan {
  const chosen = bestCover(inventory.segments);
  const firstNewId =
    largest(
      [...inventory.segments, ...inventory.damagedSegments].map((segment) => segment.id),
      inventory.temporaryFiles.map(idOfTemporaryFile),
    ) + 1;
  const logSegments = planLogSegments(inventory.logFiles, chosen, firstNewId);
  const chosenIds = new Set(chosen.map((segment) => segment.id));
  const covered: SequenceRange[] = [
    ...chosen.map((segment) => ({ from: segment.minSequence, to: segment.maxSequence })),
    ...logSegments,
  ].sort((a, b) => a.from - b.from);
  const coveredSequence = covered.reduce((last, range) => Math.max(last, range.to), 0);
  const setAside: SetAside[] = [
    ...inventory.segments
      .filter((segment) => !chosenIds.has(segment.id))
      .map((segment) => ({
        file: `${SEGMENTS_DIRECTORY}/${segment.name}`,
        why: `sequences ${segment.minSequence}–${segment.maxSequence} overlap the segments chosen`,
      })),
    ...inventory.damagedSegments.map((segment) => ({ file: `${SEGMENTS_DIRECTORY}/${segment.name}`, why: segment.problem })),
    ...inventory.temporaryFiles.map((name) => ({ file: `${SEGMENTS_DIRECTORY}/${name}`, why: 'an unfinished segment build' })),
    ...inventory.logFiles.map((file) => ({ file: `${WAL_DIRECTORY}/${file.name}`, why: logFileFate(file, logSegments) })),
  ];
  const lastKnownSequence = largest(
    inventory.segments.map((segment) => segment.maxSequence),
    ...inventory.logFiles.map((file) => file.records.map((record) => record.lastSequence)),
  );
  const lost = holesIn(covered, coveredSequence);
  if (lastKnownSequence > coveredSequence) {
    lost.push({
      from: coveredSequence + 1,
      to: lastKnownSequence,
      why: 'only in segment files set aside (overlapping the segments chosen)',
    });
  }
  return {
    segments: chosen,
    logSegments,
    coveredSequence,
    setAside,
    lost: mergeRanges(lost),
    lastKnownSequence,
    nextSegmentId: firstNewId + logSegments.length,
  };
}

/**
 * The id an unfinished build's temp file (`<id>.seg.tmp`) was for, or 0. A
 * new segment must not take it: the builder writes under that very name
 * (a repair killed while building leaves one).
 */
function idOfTemporaryFile(name: string): number {
  return segmentIdOfBuildName(name) ?? 0;
}

interface SequenceRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The disjoint segments that together cover the most sequence numbers;
 * among equal covers, the one of fewest segments (a merge's output over
 * its inputs), then the newest ids. Segments ordered by their last
 * sequence number; best[i] is the best cover ending with segment i.
 */
function bestCover(segments: readonly SoundSegment[]): SoundSegment[] {
  const sorted = [...segments].sort((a, b) => a.maxSequence - b.maxSequence || a.id - b.id);
  const best: Array<{ covered: number; count: number; idSum: number; previous: number }> = [];
  for (let i = 0; i < sorted.length; i++) {
    const segment = sorted[i]!;
    let choice = { covered: 0, count: 0, idSum: 0, previous: -1 };
    for (let j = 0; j < i; j++) {
      if (sorted[j]!.maxSequence < segment.minSequence && isBetter(best[j]!, choice)) choice = { ...best[j]!, previous: j };
    }
    best.push({
      covered: choice.covered + length(segment),
      count: choice.count + 1,
      idSum: choice.idSum + segment.id,
      previous: choice.previous,
    });
  }
  let end = -1;
  for (let i = 0; i < best.length; i++) if (end < 0 || isBetter(best[i]!, best[end]!)) end = i;
  const chain: SoundSegment[] = [];
  for (let i = end; i >= 0; i = best[i]!.previous) chain.unshift(sorted[i]!);
  return chain;
}

function isBetter(a: { covered: number; count: number; idSum: number }, b: { covered: number; count: number; idSum: number }): boolean {
  if (a.covered !== b.covered) return a.covered > b.covered;
  if (a.count !== b.count) return a.count < b.count;
  return a.idSum > b.idSum;
}

function length(segment: SoundSegment): number {
  return segment.maxSequence - segment.minSequence + 1;
}

/** The sequence numbers from 1 to `end` no range covers. */
function holesIn(ranges: readonly SequenceRange[], end: number): LostRange[] {
  const holes: LostRange[] = [];
  let next = 1;
  for (const range of ranges) {
    if (range.from > next) holes.push({ from: next, to: range.from - 1, why: 'in no sound segment and no intact log record' });
    next = Math.max(next, range.to + 1);
  }
  if (next <= end) holes.push({ from: next, to: end, why: 'in no sound segment and no intact log record' });
  return holes;
}

/**
 * The stretches of intact log records no chosen segment covers, each a
 * segment to build. Records are taken in sequence order from every file
 * (a record found twice, as in a file copied over another, counts once);
 * a stretch ends where the next record does not start right after it.
 */
function planLogSegments(files: readonly LogFileFacts[], chosen: readonly SoundSegment[], firstId: number): LogSegmentPlan[] {
  const records = files
    .flatMap((file) => file.records.map((record) => ({ file: `${WAL_DIRECTORY}/${file.name}`, ...record })))
    .sort((a, b) => a.firstSequence - b.firstSequence || a.lastSequence - b.lastSequence);
  const plans: LogSegmentPlan[] = [];
  let stretch: LogRecordSource[] = [];
  const endStretch = (): void => {
    for (const piece of uncovered(stretch, chosen)) plans.push({ id: firstId + plans.length, ...piece });
    stretch = [];
  };
  for (const record of records) {
    const last = stretch.at(-1);
    if (last !== undefined && record.firstSequence <= last.lastSequence) continue; // the same record again, or one overlapping it
    if (last !== undefined && record.firstSequence !== last.lastSequence + 1) endStretch();
    stretch.push(record);
  }
  endStretch();
  return plans;
}

/** The parts of a stretch of records outside every chosen segment, with the records each part needs. */
function uncovered(stretch: readonly LogRecordSource[], chosen: readonly SoundSegment[]): Array<Omit<LogSegmentPlan, 'id'>> {
  const first = stretch[0];
  const last = stretch.at(-1);
  if (first === undefined || last === undefined) return [];
  const parts: Array<Omit<LogSegmentPlan, 'id'>> = [];
  let from = first.firstSequence;
  const take = (to: number): void => {
    if (to < from) return;
    const records = stretch.filter((record) => record.lastSequence >= from && record.firstSequence <= to);
    parts.push({ from, to, records });
  };
  for (const segment of chosen) {
    if (segment.maxSequence < from || segment.minSequence > last.lastSequence) continue;
    take(Math.min(segment.minSequence - 1, last.lastSequence));
    from = segment.maxSequence + 1;
  }
  take(last.lastSequence);
  return parts;
}

/** Why a log file goes to lost+found: every log file does (the recovered records live in segments). */
function logFileFate(file: LogFileFacts, built: readonly LogSegmentPlan[]): string {
  const into = built
    .filter((plan) => plan.records.some((record) => record.file === `${WAL_DIRECTORY}/${file.name}`))
    .map((plan) => segmentFileName(plan.id));
  const damage = file.damage.map((place) => `; records stop verifying at offset ${place.offset}: ${place.detail}`).join('');
  if (file.records.length === 0) return `holds no intact record${damage}`;
  const fate = into.length === 0 ? 'every record in it is in the segments chosen' : `its records were recovered into ${into.join(', ')}`;
  return `${fate}${damage}`;
}

/** Sorted, with adjacent or overlapping ranges joined (the first reason kept). */
function mergeRanges(ranges: readonly LostRange[]): LostRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const merged: LostRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && range.from <= last.to + 1) merged[merged.length - 1] = { ...last, to: Math.max(last.to, range.to) };
    else merged.push(range);
  }
  return merged;
}

/** The largest number in the lists, 0 for none: a loop, since spreading a long log's records into Math.max overflows the stack. */
function largest(...lists: ReadonlyArray<readonly number[]>): number {
  let most = 0;
  for (const list of lists) for (const value of list) if (value > most) most = value;
  return most;
}
