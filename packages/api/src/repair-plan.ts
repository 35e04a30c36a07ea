/**
 * What `silt repair` does with the files it found, decided without I/O so
 * that every case can be tested on its own: which segments make the new
 * manifest, which log files are replayed, and what cannot be used. The
 * manifest itself is not trusted: the plan is made from the segment files
 * (each footer records the sequence range it covers) and the log.
 */

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

/** One log file as parsed: its valid records, and where (if anywhere) they stop before the file does. */
export interface LogFileFacts {
  readonly name: string;
  /** The sequence number in its name. */
  readonly firstSequence: number;
  readonly bytes: number;
  /** The first and last sequence numbers of its valid records; undefined when it has none. */
  readonly records: { readonly first: number; readonly last: number; readonly count: number } | undefined;
  /** Bytes of its valid records. */
  readonly validLength: number;
  /** What ends the valid records before the file's end (damage or a torn write); undefined for a clean file. */
  readonly damage: { readonly offset: number; readonly detail: string } | undefined;
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

export interface RepairPlan {
  /** The segments of the new manifest's one generation, oldest first. */
  readonly segments: readonly SoundSegment[];
  /** The manifest's covered sequence: the log is replayed from the next one. */
  readonly coveredSequence: number;
  /** Log files kept in `wal/`, oldest first. */
  readonly logFiles: readonly string[];
  /** The sequence numbers the kept log replays, when it holds any past `coveredSequence`. */
  readonly replay: { readonly from: number; readonly to: number } | undefined;
  /** A kept log file cut to its valid records; the bytes cut are saved in lost+found first. */
  readonly truncate: { readonly file: string; readonly validLength: number; readonly why: string } | undefined;
  readonly setAside: readonly SetAside[];
  readonly lost: readonly LostRange[];
  /** The highest sequence number any file holds: what an index without damage would have. */
  readonly lastKnownSequence: number;
  /** Past every id seen, so no new segment takes the name of one set aside. */
  readonly nextSegmentId: number;
}

export function planRepair(inventory: RepairInventory): RepairPlan {
  const chosen = bestCover(inventory.segments);
  const segmentCovered = chosen.at(-1)?.maxSequence ?? 0;
  const log = planLog(inventory.logFiles, segmentCovered);
  const chosenIds = new Set(chosen.map((segment) => segment.id));
  const setAside: SetAside[] = [
    ...inventory.segments
      .filter((segment) => !chosenIds.has(segment.id))
      .map((segment) => ({ file: `segments/${segment.name}`, why: `sequences ${segment.minSequence}–${segment.maxSequence} overlap the segments chosen` })),
    ...inventory.damagedSegments.map((segment) => ({ file: `segments/${segment.name}`, why: segment.problem })),
    ...inventory.temporaryFiles.map((name) => ({ file: `segments/${name}`, why: 'an unfinished segment build' })),
    ...log.setAside,
  ];
  const lastKnownSequence = Math.max(
    0,
    ...inventory.segments.map((segment) => segment.maxSequence),
    ...inventory.logFiles.map((file) => file.records?.last ?? 0),
  );
  const recoveredTo = log.replay?.to ?? log.coveredSequence;
  const lost = [...gapsBetween(chosen), ...log.lost];
  if (lastKnownSequence > recoveredTo) {
    lost.push({ from: recoveredTo + 1, to: lastKnownSequence, why: 'only in files set aside (past a gap or damage in the log, or overlapping the segments chosen)' });
  }
  const allIds = [...inventory.segments, ...inventory.damagedSegments].map((segment) => segment.id);
  return {
    segments: chosen,
    coveredSequence: log.coveredSequence,
    logFiles: log.kept,
    replay: log.replay,
    truncate: log.truncate,
    setAside,
    lost: mergeRanges(lost),
    lastKnownSequence,
    nextSegmentId: Math.max(0, ...allIds) + 1,
  };
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

function gapsBetween(chain: readonly SoundSegment[]): LostRange[] {
  const gaps: LostRange[] = [];
  let next = 1;
  for (const segment of chain) {
    if (segment.minSequence > next) gaps.push({ from: next, to: segment.minSequence - 1, why: 'in no sound segment' });
    next = segment.maxSequence + 1;
  }
  return gaps;
}

interface LogPlan {
  readonly coveredSequence: number;
  readonly kept: string[];
  readonly replay: { from: number; to: number } | undefined;
  truncate: RepairPlan['truncate'];
  readonly setAside: SetAside[];
  readonly lost: LostRange[];
}

/**
 * The log files that continue the segments without a break. A file wholly
 * below the segments' cover is set aside (a flush covered it). The first
 * file past it may start late: what lies between is lost, and the manifest
 * covers up to where the log starts, so the log's continuity holds. From
 * there files are kept while each starts where the last ended; the first
 * damaged one is cut to its valid records, and everything after a cut or a
 * gap is set aside.
 */
function planLog(files: readonly LogFileFacts[], segmentCovered: number): LogPlan {
  const plan: LogPlan = { coveredSequence: segmentCovered, kept: [], replay: undefined, truncate: undefined, setAside: [], lost: [] };
  let coveredSequence = segmentCovered;
  let next: number | undefined; // the sequence the next kept file must start at, once one is kept
  let broken: string | undefined;
  let replayTo = 0;
  const newest = files.at(-1);
  for (const file of files) {
    if (broken !== undefined) {
      plan.setAside.push({ file: `wal/${file.name}`, why: broken });
      continue;
    }
    const records = file.records;
    if (next === undefined) {
      if (records === undefined || records.last <= segmentCovered) {
        // Covered by the segments, or empty: only the newest empty file still names the next sequence.
        if (file === newest && records === undefined && file.firstSequence > segmentCovered) plan.kept.push(file.name);
        else plan.setAside.push({ file: `wal/${file.name}`, why: records === undefined ? 'holds no record' : `every record in it (to ${records.last}) is in the segments chosen` });
        continue;
      }
      if (records.first > segmentCovered + 1) {
        plan.lost.push({ from: segmentCovered + 1, to: records.first - 1, why: 'in no segment and no log file' });
        coveredSequence = records.first - 1;
      }
    } else if (records === undefined ? file.firstSequence !== next : records.first !== next) {
      broken = `after a gap in the log: sequence ${next} was expected where ${records?.first ?? file.firstSequence} begins`;
      plan.setAside.push({ file: `wal/${file.name}`, why: broken });
      continue;
    }
    plan.kept.push(file.name);
    if (records !== undefined) {
      replayTo = records.last;
      next = records.last + 1;
    } else next = file.firstSequence;
    if (file.damage !== undefined) {
      const why = `cut at offset ${file.damage.offset}: ${file.damage.detail}`;
      plan.truncate = { file: `wal/${file.name}`, validLength: file.validLength, why };
      broken = `after the cut in wal/${file.name}`;
    }
  }
  const from = coveredSequence + 1;
  return { ...plan, coveredSequence, replay: replayTo >= from ? { from, to: replayTo } : undefined };
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
