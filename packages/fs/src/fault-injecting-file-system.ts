import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';

/**
 * Wraps any FileSystem and fails chosen calls with a chosen errno, for tests
 * of what the storage code does when the disk says no.
 */

/** Every call a rule can fail. */
export const FAULT_OPERATIONS = [
  'open',
  'read',
  'write',
  'truncate',
  'sync',
  'datasync',
  'syncDirectory',
  'rename',
  'unlink',
  'mkdir',
] as const;

export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

export interface FaultRule {
  readonly operation: FaultOperation;
  /** Fails the nth call (1-based) of this operation counted from when the rule was added. */
  readonly nth: number;
  /** The errno to raise, e.g. 'EIO' or 'ENOSPC'. */
  readonly code: string;
  /** Keep failing every later call too, as a dead disk would. */
  readonly sticky?: boolean;
  /** For `write`: write the first half of the bytes before failing, as a full disk does. */
  readonly partial?: boolean;
  /** Only calls on paths containing this text count. */
  readonly pathIncludes?: string;
}

interface ActiveRule {
  readonly rule: FaultRule;
  seen: number;
}

export class InjectedFaultError extends Error {
  readonly code: string;
  readonly syscall: string;

  constructor(code: string, operation: FaultOperation, path: string) {
    super(`${code}: injected fault on ${operation} ${path}`);
    this.code = code;
    this.syscall = operation;
  }
}

class FaultInjectingFileHandle implements FileHandle {
  constructor(
    private readonly owner: FaultInjectingFileSystem,
    private readonly inner: FileHandle,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  size(): number {
    return this.inner.size();
  }

  read(target: Uint8Array, position: number): number {
    this.owner.check('read', this.path);
    return this.inner.read(target, position);
  }

  write(data: Uint8Array, position: number): void {
    const fault = this.owner.faultFor('write', this.path);
    if (fault?.partial === true) this.inner.write(data.subarray(0, data.length >>> 1), position);
    if (fault !== undefined) throw new InjectedFaultError(fault.code, 'write', this.path);
    this.inner.write(data, position);
  }

  truncate(length: number): void {
    this.owner.check('truncate', this.path);
    this.inner.truncate(length);
  }

  async sync(): Promise<void> {
    this.owner.check('sync', this.path);
    await this.inner.sync();
  }

  async datasync(): Promise<void> {
    this.owner.check('datasync', this.path);
    await this.inner.datasync();
  }

  datasyncNow(): void {
    this.owner.check('datasync', this.path);
    this.inner.datasyncNow();
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * Sees every call before it runs (and before any fault): for tests that count
 * I/O steps or stop a process between two of them. `mode` is the open mode.
 */
export type CallObserver = (operation: FaultOperation, path: string, mode?: OpenMode) => void;

export class FaultInjectingFileSystem implements FileSystem {
  private readonly rules: ActiveRule[] = [];
  private readonly counts = new Map<FaultOperation, number>();
  private faultsRaised = 0;

  constructor(
    private readonly inner: FileSystem,
    rules: readonly FaultRule[] = [],
    private readonly observe?: CallObserver,
  ) {
    for (const rule of rules) this.addFault(rule);
  }

  /** How many faults have been raised so far. */
  get injected(): number {
    return this.faultsRaised;
  }

  addFault(rule: FaultRule): void {
    if (!Number.isInteger(rule.nth) || rule.nth < 1) throw new RangeError(`nth must be a positive integer, got ${rule.nth}`);
    this.rules.push({ rule, seen: 0 });
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  /** How many calls of an operation have been made through this object. */
  callCount(operation: FaultOperation): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Counts a call and returns the rule that fails it, if any. */
  faultFor(operation: FaultOperation, path: string, mode?: OpenMode): FaultRule | undefined {
    this.observe?.(operation, path, mode);
    this.counts.set(operation, this.callCount(operation) + 1);
    let failing: FaultRule | undefined;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.operation !== operation) continue;
      if (rule.pathIncludes !== undefined && !path.includes(rule.pathIncludes)) continue;
      active.seen++;
      const fires = active.seen === rule.nth || (rule.sticky === true && active.seen > rule.nth);
      if (fires && failing === undefined) failing = rule;
    }
    if (failing !== undefined) this.faultsRaised++;
    return failing;
  }

  check(operation: FaultOperation, path: string, mode?: OpenMode): void {
    const fault = this.faultFor(operation, path, mode);
    if (fault !== undefined) throw new InjectedFaultError(fault.code, operation, path);
  }

  open(path: string, mode: OpenMode): FileHandle {
    this.check('open', path, mode);
    return new FaultInjectingFileHandle(this, this.inner.open(path, mode));
  }

  readFile(path: string): Uint8Array {
    this.check('read', path);
    return this.inner.readFile(path);
  }

  /** A mapping is a read of the whole file: it fails as a read does, and maps where the inner file system can. */
  mapFile(path: string): Uint8Array | undefined {
    this.check('read', path);
    return this.inner.mapFile?.(path);
  }

  stat(path: string): FileStat {
    return this.inner.stat(path);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  list(directory: string): string[] {
    return this.inner.list(directory);
  }

  mkdir(path: string): void {
    this.check('mkdir', path);
    this.inner.mkdir(path);
  }

  rename(from: string, to: string): void {
    this.check('rename', to);
    this.inner.rename(from, to);
  }

  unlink(path: string): void {
    this.check('unlink', path);
    this.inner.unlink(path);
  }

  async syncDirectory(path: string): Promise<void> {
    this.check('syncDirectory', path);
    await this.inner.syncDirectory(path);
  }
}
