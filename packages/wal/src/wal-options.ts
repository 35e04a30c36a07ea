import { nodeFileSystem, systemClock, ValidationError, type Clock, type FileSystem } from '@silt/fs';
import { FORMAT_MAX_RECORD_BYTES, RECORD_HEADER_BYTES, WRITE_CLIENT_BYTES, type WriteOrigin } from './record-format.js';
import { describe } from './describe-value.js';

/** When `append()` resolves; see README.md for what survives which crash. */
export type Durability = 'fsync' | 'write' | 'none';

export interface WalOptions {
  /** The file system every byte goes through. Default: the real one. */
  fs?: FileSystem;
  /** What times the background fdatasync of 'write' mode. Default: the real clock; tests pass a `ManualClock`. */
  clock?: Clock;
  /** Default 'write'. */
  durability?: Durability;
  /** In 'write' mode, how often unsynced bytes are fdatasynced in the background. Default 200 ms. */
  syncIntervalMs?: number;
  /** A file past this size is closed and a new one started. Default 32 MiB. */
  maxFileBytes?: number;
  /** The largest record (one batch, header included) `append` accepts. Default 16 MiB. */
  maxRecordBytes?: number;
  /** What open does with damage or missing sequence numbers: throw ('strict', the default) or cut the log there and set the rest aside. */
  recovery?: 'strict' | 'keepValidPrefix';
  /**
   * The sequence number the caller needs next: everything below it is
   * stored elsewhere (the index passes its manifest's covered position + 1).
   * The log must hold it if it holds anything past it; files wholly below it
   * are not read; an empty log starts there. Unset: the log starts at 1 and
   * only its files' continuity with each other is checked.
   */
  nextSequence?: number;
}

export interface ResolvedWalOptions {
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly durability: Durability;
  readonly syncIntervalMs: number;
  readonly maxFileBytes: number;
  readonly maxRecordBytes: number;
  readonly recovery: 'strict' | 'keepValidPrefix';
  readonly nextSequence: number | undefined;
}

const MIB = 1024 * 1024;
export const DEFAULT_WAL_OPTIONS: Omit<ResolvedWalOptions, 'fs' | 'clock' | 'nextSequence'> = {
  durability: 'write',
  syncIntervalMs: 200,
  maxFileBytes: 32 * MIB,
  maxRecordBytes: 16 * MIB,
  recovery: 'strict',
};

/** Record offsets are stored as u32, so files stay well below 4 GiB. */
export const MAX_FILE_BYTES_LIMIT = 1024 * MIB;
export const MIN_FILE_BYTES = 1024;
export const MIN_RECORD_BYTES_LIMIT = RECORD_HEADER_BYTES + 32;
const MAX_TIMER_MS = 2 ** 31 - 1;

const KNOWN = new Set(['fs', 'clock', 'durability', 'syncIntervalMs', 'maxFileBytes', 'maxRecordBytes', 'recovery', 'nextSequence']);

export function resolveWalOptions(options: unknown): ResolvedWalOptions {
  if (options === undefined) return { fs: nodeFileSystem, clock: systemClock, ...DEFAULT_WAL_OPTIONS, nextSequence: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`WAL options must be an object, got ${describe(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) throw new ValidationError(`unknown WAL option '${key}'; known options: ${[...KNOWN].join(', ')}`);
  }
  const d = DEFAULT_WAL_OPTIONS;
  return {
    fs: fileSystemOption(given.fs),
    clock: clockOption(given.clock),
    durability: oneOf('durability', given.durability, ['fsync', 'write', 'none'] as const, d.durability),
    syncIntervalMs: integerIn('syncIntervalMs', given.syncIntervalMs, 1, MAX_TIMER_MS, d.syncIntervalMs),
    maxFileBytes: integerIn('maxFileBytes', given.maxFileBytes, MIN_FILE_BYTES, MAX_FILE_BYTES_LIMIT, d.maxFileBytes),
    maxRecordBytes: integerIn('maxRecordBytes', given.maxRecordBytes, MIN_RECORD_BYTES_LIMIT, FORMAT_MAX_RECORD_BYTES, d.maxRecordBytes),
    recovery: oneOf('recovery', given.recovery, ['strict', 'keepValidPrefix'] as const, d.recovery),
    nextSequence:
      given.nextSequence === undefined ? undefined : integerIn('nextSequence', given.nextSequence, 1, Number.MAX_SAFE_INTEGER, 1),
  };
}

function fileSystemOption(value: unknown): FileSystem {
  if (value === undefined) return nodeFileSystem;
  const methods = ['open', 'readFile', 'stat', 'exists', 'list', 'mkdir', 'rename', 'unlink', 'syncDirectory'];
  const missing =
    typeof value === 'object' && value !== null
      ? methods.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
      : methods;
  if (missing.length > 0) throw new ValidationError(`option fs must be a FileSystem from @silt/fs; missing ${missing.join(', ')}`);
  return value as FileSystem;
}

function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Record<keyof Clock, unknown>>;
  if (typeof value !== 'object' || value === null || typeof clock.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new ValidationError(`option clock must be a Clock from @silt/fs (now, setTimer), got ${describe(value)}`);
  }
  return value as Clock;
}

/** What `appendNow` may be told. */
export interface AppendOptions {
  /**
   * The entries may share one record with the other coalescing appends of
   * this event-loop turn (up to 1 MiB a record): one record, one job and
   * one promise for thousands of small writes. Atomic still: a record
   * survives whole or not at all. Appends over 64 KiB get a record of their own.
   */
  coalesce?: boolean;
  /**
   * Who asked for the write, when another process forwarded it: the record
   * names it (FORMAT.md, "Origins"), so that the client can tell from the
   * log whether its write was applied when the writer died before it
   * answered.
   */
  origin?: WriteOrigin;
}

/** Whether the append may coalesce. Runs once per write, so it allocates nothing. */
export function coalesceOption(options: unknown): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`appendNow options must be an object, got ${describe(options)}`);
  }
  for (const key in options) {
    if (key !== 'coalesce' && key !== 'origin') {
      throw new ValidationError(`unknown appendNow option '${key}'; known options: coalesce, origin`);
    }
  }
  const { coalesce } = options as AppendOptions;
  if (coalesce !== undefined && typeof coalesce !== 'boolean') {
    throw new ValidationError(`appendNow option coalesce must be a boolean, got ${describe(coalesce)}`);
  }
  return coalesce === true;
}

/** The origin an append names, checked (call after `coalesceOption`, which checks the rest). */
export function originOption(options: AppendOptions | undefined): WriteOrigin | undefined {
  const origin = options?.origin;
  if (origin === undefined) return undefined;
  const { client, request } = origin as Partial<Record<keyof WriteOrigin, unknown>>;
  if (!(client instanceof Uint8Array) || client.length !== WRITE_CLIENT_BYTES) {
    throw new ValidationError(
      `appendNow option origin.client must be a Uint8Array of ${WRITE_CLIENT_BYTES} bytes, got ${describe(client)}`,
    );
  }
  if (typeof request !== 'number' || !Number.isInteger(request) || request < 0 || request > 0xffff_ffff) {
    throw new ValidationError(`appendNow option origin.request must be a whole number from 0 to 2^32 - 1, got ${describe(request)}`);
  }
  return origin;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ValidationError(`option ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
}

function integerIn(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`option ${name} must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** A sequence-number argument: a whole number from 0 up. */
export function checkSequenceArgument(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`${what} takes a sequence number (a whole number from 0 up), got ${describe(value)}`);
  }
  return value;
}
