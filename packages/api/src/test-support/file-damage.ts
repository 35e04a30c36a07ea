import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTemporaryName, LOG_ACKNOWLEDGED_FILE, MANIFEST_FILE, WRITER_LOCK_FILE, WRITER_PID_FILE, sequenceOfLogFile } from '@silt/fs';
import { parseLogFile } from '@silt/wal';

/** What a damaged file is to the index. */
export type FileKind = 'manifest' | 'manifest-wal' | 'manifest-shm' | 'segment' | 'log' | 'log-marker' | 'lock' | 'pid';

/** A file to damage, relative to the index directory, and a file of the same kind to copy over it, when there is one. */
export interface DamageTarget {
  readonly file: string;
  readonly kind: FileKind;
  /** An absolute path. */
  readonly other: string | undefined;
  /** The newest log file: the only one whose end a crash may tear. */
  readonly newestLog: boolean;
  /** For the newest log file, where its last record starts: damage from there on looks like a torn write. */
  readonly lastRecordOffset: number | undefined;
}

export const DAMAGES = ['delete', 'truncate-to-0', 'truncate-to-half', 'flip-header', 'flip-middle', 'flip-end', 'copy-other'] as const;
export type Damage = (typeof DAMAGES)[number];

/**
 * Every file of an index directory a damage campaign hits: the manifest
 * and SQLite's companions of it, each segment, each log file, the writer
 * lock and pid files. Temp files and lost+found are not the index's.
 * `olderManifest` is the manifest's "other file of the same kind".
 */
export function damageTargets(directory: string, olderManifest: string): DamageTarget[] {
  const targets: DamageTarget[] = [];
  const add = (file: string, kind: FileKind, other: string | undefined, newestLog = false): void => {
    if (!existsSync(join(directory, file))) return;
    targets.push({ file, kind, other, newestLog, lastRecordOffset: newestLog ? lastRecordOffset(join(directory, file)) : undefined });
  };
  add(MANIFEST_FILE, 'manifest', olderManifest);
  add(`${MANIFEST_FILE}-wal`, 'manifest-wal', undefined);
  add(`${MANIFEST_FILE}-shm`, 'manifest-shm', undefined);
  const segments = readdirSync(join(directory, 'segments'))
    .filter((name) => !isTemporaryName(name))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  segments.forEach((name, i) => add(`segments/${name}`, 'segment', join(directory, 'segments', segments[(i + 1) % segments.length]!)));
  const logs = readdirSync(join(directory, 'wal'))
    .filter((name) => sequenceOfLogFile(name) !== undefined)
    .sort();
  logs.forEach((name, i) =>
    add(`wal/${name}`, 'log', logs.length > 1 ? join(directory, 'wal', logs[(i + 1) % logs.length]!) : undefined, i === logs.length - 1),
  );
  add(`wal/${LOG_ACKNOWLEDGED_FILE}`, 'log-marker', undefined);
  add(WRITER_LOCK_FILE, 'lock', undefined);
  add(WRITER_PID_FILE, 'pid', undefined);
  return targets;
}

/** Applies `damage` to the target in `directory`; false when it does not apply (no byte to flip, no other file). */
export function applyDamage(directory: string, target: DamageTarget, damage: Damage): boolean {
  const path = join(directory, target.file);
  const size = statSync(path).size;
  switch (damage) {
    case 'delete':
      rmSync(path);
      return true;
    case 'truncate-to-0':
      if (size === 0) return false;
      truncateSync(path, 0);
      return true;
    case 'truncate-to-half':
      if (size < 2) return false;
      truncateSync(path, Math.floor(size / 2));
      return true;
    case 'flip-header':
    case 'flip-middle':
    case 'flip-end': {
      const offset = flipOffset(damage, size);
      return offset !== undefined && flipByte(path, offset);
    }
    case 'copy-other':
      if (target.other === undefined) return false;
      copyFileSync(target.other, path);
      return true;
  }
}

/** Where a flip damage changes a byte of a file of `size` bytes; undefined when the file is too small for it. */
export function flipOffset(damage: Damage, size: number): number | undefined {
  if (damage === 'flip-header') return size >= 1 ? 0 : undefined;
  if (damage === 'flip-middle') return size >= 3 ? Math.floor(size / 2) : undefined;
  if (damage === 'flip-end') return size >= 2 ? size - 1 : undefined;
  return undefined;
}

function lastRecordOffset(path: string): number | undefined {
  const name = path.split('/').at(-1)!;
  return parseLogFile(readFileSync(path), { file: name, firstSequence: sequenceOfLogFile(name)!, isLast: true }).records.at(-1)?.offset;
}

function flipByte(path: string, offset: number): boolean {
  const bytes = readFileSync(path);
  if (offset >= bytes.length) return false;
  bytes[offset] = bytes[offset]! ^ 0x5a;
  writeFileSync(path, bytes);
  return true;
}
