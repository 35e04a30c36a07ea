import { TEMP_SUFFIX } from './durable.js';

/**
 * The name of every file and folder an index directory holds, and the one
 * parser that tells them apart: the vocabulary of DESIGN.md's "On disk"
 * section, kept in one place as LevelDB keeps its names in `db/filename.h`.
 *
 * Why it lives in @silt/fs: the log (@silt/wal: its file names and its
 * lost+found), the catalog (@silt/segments: the manifest, the writer lock,
 * segment file names), the reader and the index all use these names. The log
 * and the segments do not know each other and packages depend one way only,
 * so the one module all of them can import sits in the package below both.
 * It does no I/O and knows nothing of what a file holds: names only.
 *
 * Names are relative to the index directory, with `/` between a folder and
 * a name inside it (the manifest records segment files that way), except
 * where a function says it names an entry of one folder.
 */

/** The catalog (SQLite): generations, live segments, the covered log position, reader leases. */
export const MANIFEST_FILE = 'manifest.sqlite';
/** SQLite's journal of the manifest (WAL journal mode): SQLite's own, never opened by silt. */
export const MANIFEST_JOURNAL_FILE = `${MANIFEST_FILE}-wal`;
/** SQLite's shared-memory index of that journal: SQLite's own, never opened by silt. */
export const MANIFEST_SHARED_MEMORY_FILE = `${MANIFEST_FILE}-shm`;
/** The manifest with its two SQLite companions: what a repair sets aside whole. */
export const MANIFEST_FILES: readonly string[] = [MANIFEST_FILE, MANIFEST_JOURNAL_FILE, MANIFEST_SHARED_MEMORY_FILE];

/** The SQLite file whose lock is the writer lock. It stays empty: nothing is ever written to it. */
export const WRITER_LOCK_FILE = 'writer.lock';
/** Who holds the lock: written by the holder after it has the lock, removed before it lets go. */
export const WRITER_PID_FILE = 'writer.pid';
/** The writer actor's Unix socket: the lock holder listens on it, the index's other processes forward their writes to it. */
export const WRITER_SOCKET_FILE = 'writer.sock';

/** The folder of write-ahead log files. */
export const WAL_DIRECTORY = 'wal';
/**
 * Inside the log's folder: the writer's acknowledged position (last sequence
 * number, file and offset), rewritten in place after every group commit so
 * that readers tail only what was acknowledged. A hint for live readers,
 * never fsynced; see @silt/wal FORMAT.md, "The acknowledged marker".
 */
export const LOG_ACKNOWLEDGED_FILE = 'acknowledged';
/**
 * Files every writer rewrites, whose old bytes say nothing once another
 * writer holds the index: `writer.pid` (rewritten when the lock is taken,
 * removed when it is let go) and the log's acknowledged marker (republished
 * at every open). Relative to the index directory.
 */
export const WRITER_BOOKKEEPING_FILES: readonly string[] = [WRITER_PID_FILE, `${WAL_DIRECTORY}/${LOG_ACKNOWLEDGED_FILE}`];
/** The folder of segment files. */
export const SEGMENTS_DIRECTORY = 'segments';
/**
 * What silt set aside rather than delete: in the index directory, one folder
 * per repair run; inside the log's folder, the log bytes a `keepValidPrefix`
 * recovery took out of the log. Nothing reads or deletes what is in it.
 */
export const LOST_AND_FOUND_DIRECTORY = 'lost+found';

/** Inside a repair folder: copies of the log records a repair built into new segments, one folder per segment id. */
export const RECOVERED_LOG_DIRECTORY = 'recovered-log';
/** Inside a repair folder: the rebuilt manifest, written there before it takes the manifest's name. */
export const NEW_MANIFEST_FILE = `new-${MANIFEST_FILE}`;

/** Every kind of name `parseFileName` knows. */
export type IndexFileKind =
  | 'manifest'
  | 'manifest-journal'
  | 'manifest-shared-memory'
  | 'writer-lock'
  | 'writer-pid'
  | 'writer-socket'
  | 'log-directory'
  /** `wal/<first sequence>.log`; number: the sequence number of its first record. */
  | 'log'
  | 'log-lost-and-found'
  | 'log-acknowledged'
  | 'segments-directory'
  /** `segments/<id>.seg`; number: the segment id. */
  | 'segment'
  /** `segments/<id>.seg.tmp`, a segment being built; number: the segment id. */
  | 'segment-build'
  | 'lost-and-found'
  /** `lost+found/repair-<time>`; number: the time the repair ran, in ms since the epoch. */
  | 'repair-folder';

/** A name `parseFileName` recognised. `number` is 0 for the kinds whose name holds none. */
export interface ParsedFileName {
  readonly kind: IndexFileKind;
  readonly number: number;
}

const TOP_LEVEL_NAMES: ReadonlyMap<string, IndexFileKind> = new Map<string, IndexFileKind>([
  [MANIFEST_FILE, 'manifest'],
  [MANIFEST_JOURNAL_FILE, 'manifest-journal'],
  [MANIFEST_SHARED_MEMORY_FILE, 'manifest-shared-memory'],
  [WRITER_LOCK_FILE, 'writer-lock'],
  [WRITER_PID_FILE, 'writer-pid'],
  [WRITER_SOCKET_FILE, 'writer-socket'],
  [WAL_DIRECTORY, 'log-directory'],
  [SEGMENTS_DIRECTORY, 'segments-directory'],
  [LOST_AND_FOUND_DIRECTORY, 'lost-and-found'],
]);

const LOG_FOLDER_NAMES: ReadonlyMap<string, IndexFileKind> = new Map<string, IndexFileKind>([
  [LOST_AND_FOUND_DIRECTORY, 'log-lost-and-found'],
  [LOG_ACKNOWLEDGED_FILE, 'log-acknowledged'],
]);

/**
 * 16 digits, zero-padded, so that byte order is sequence order
 * (Number.MAX_SAFE_INTEGER has 16 digits).
 */
const LOG_SEQUENCE_DIGITS = 16;
const LOG_NAME = /^(\d{16})\.log$/;
/** Ids never start with 0, so each id has exactly one name. */
const SEGMENT_NAME = /^([1-9]\d{0,15})\.seg$/;
const SEGMENT_SUFFIX = '.seg';
const REPAIR_FOLDER_PREFIX = 'repair-';
const REPAIR_FOLDER_NAME = /^repair-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

/** A log file's name inside the log folder: the sequence number of its first record, 16 digits. */
export function logFileName(firstSequence: number): string {
  return `${String(firstSequence).padStart(LOG_SEQUENCE_DIGITS, '0')}.log`;
}

/** The first sequence number a name inside the log folder stands for, or undefined for a name that is not a log file's. */
export function sequenceOfLogFile(name: string): number | undefined {
  const match = LOG_NAME.exec(name);
  if (match === null) return undefined;
  const sequence = Number(match[1]);
  return Number.isSafeInteger(sequence) && sequence >= 1 ? sequence : undefined;
}

/** Inside the log's lost+found: where a recovery saved the tail it cut off log file `logName` at `offset`. */
export function droppedTailName(logName: string, offset: number): string {
  return `${logName}.tail-from-${offset}`;
}

/** Where segment `id` lives, relative to the index directory (`segments/<id>.seg`). Ids never repeat, so names never do. */
export function segmentFileName(id: number): string {
  return `${SEGMENTS_DIRECTORY}/${id}${SEGMENT_SUFFIX}`;
}

/** Where segment `id` is built before it takes its name (`segments/<id>.seg.tmp`). */
export function segmentBuildFileName(id: number): string {
  return `${segmentFileName(id)}${TEMP_SUFFIX}`;
}

/** The id a name inside the segments folder stands for (`<id>.seg`), or undefined for a name that is not a segment's. */
export function segmentIdOfFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** The id of a segment build's name inside the segments folder (`<id>.seg.tmp`), or undefined. */
export function segmentIdOfBuildName(name: string): number | undefined {
  return name.endsWith(TEMP_SUFFIX) ? segmentIdOfFileName(name.slice(0, name.length - TEMP_SUFFIX.length)) : undefined;
}

/**
 * The folder one repair run sets files aside in, relative to the index directory: `lost+found/repair-<time>`, the time in UTC to the
 * millisecond.
 */
export function repairFolderName(at: Date): string {
  return `${LOST_AND_FOUND_DIRECTORY}/${REPAIR_FOLDER_PREFIX}${at.toISOString().replace(/[:.]/g, '-')}`;
}

/** Inside a repair folder: the name the old manifest (or one of its companions) `name` is set aside under. */
export function setAsideManifestName(name: string): string {
  return `old-${name}`;
}

/**
 * What a name relative to the index directory stands for, or undefined for a
 * name that is not silt's (silt leaves such names alone). Only the canonical
 * spelling of each name parses, so `parseFileName(x)` names the same file
 * `x` does.
 */
export function parseFileName(path: string): ParsedFileName | undefined {
  const slash = path.indexOf('/');
  if (slash < 0) {
    const kind = TOP_LEVEL_NAMES.get(path);
    return kind === undefined ? undefined : { kind, number: 0 };
  }
  const folder = path.slice(0, slash);
  const name = path.slice(slash + 1);
  if (folder === WAL_DIRECTORY)
    return LOG_FOLDER_NAMES.has(name) ? { kind: LOG_FOLDER_NAMES.get(name)!, number: 0 } : numbered('log', sequenceOfLogFile(name));
  if (folder === SEGMENTS_DIRECTORY)
    return numbered('segment', segmentIdOfFileName(name)) ?? numbered('segment-build', segmentIdOfBuildName(name));
  if (folder === LOST_AND_FOUND_DIRECTORY) return numbered('repair-folder', repairTimeOf(name));
  return undefined;
}

function numbered(kind: IndexFileKind, number: number | undefined): ParsedFileName | undefined {
  return number === undefined ? undefined : { kind, number };
}

/** The time a repair folder's name (inside lost+found) records, or undefined for any other name. */
function repairTimeOf(name: string): number | undefined {
  const match = REPAIR_FOLDER_NAME.exec(name);
  if (match === null) return undefined;
  const [year, month, day, hours, minutes, seconds, ms] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(year, month - 1, day, hours, minutes, seconds, ms);
  // Date.UTC rolls a 61st second or a 13th month over; only a name the writer could have made is one.
  return repairFolderName(new Date(time)) === `${LOST_AND_FOUND_DIRECTORY}/${name}` ? time : undefined;
}
