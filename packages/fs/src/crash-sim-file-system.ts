import * as nodeFs from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
import { NodeFileSystem } from './node-file-system.js';
import { SeededRandom } from './seeded-random.js';

/**
 * A file system for power-loss tests. It works on a real directory and
 * remembers, per file, how much was durable at its last fsync and which
 * durable bytes were overwritten since, and, per directory, which entries
 * were created, renamed or removed since its last fsync.
 *
 * `crash()` then does to the real files what a power loss may do: each
 * file with unsynced bytes is, by a seeded choice, rolled back to its
 * durable length (`drop`), cut at a random length past it (`tear`), left
 * with garbage in its unsynced tail (`garble`), or kept whole (`keep`); each
 * directory keeps a random prefix of its unsynced entry changes and loses
 * the rest. Afterwards everything on disk counts as durable, every handle
 * opened before the crash is dead, and the test reopens through the same
 * object or the real file system.
 *
 * fsync is simulated (it only moves the bookkeeping), so a test can run
 * hundreds of crashes quickly. Files this object never wrote count as durable.
 *
 * It maps no files (no `mapFile`): `crash()` rewrites files in place, which
 * would pull pages out from under a mapping. Its callers read instead.
 */

export type CrashFate = 'drop' | 'tear' | 'garble' | 'keep';

export interface CrashSimOptions {
  /** Seeds every choice `crash()` makes, so a failing seed can be replayed. */
  readonly seed: number;
}

export interface CrashReport {
  readonly seed: number;
  readonly files: ReadonlyArray<{ readonly path: string; readonly fate: CrashFate; readonly length: number }>;
  /** Directory entry changes that the crash undid. */
  readonly undone: ReadonlyArray<string>;
}

interface Overwrite {
  readonly position: number;
  readonly bytes: Uint8Array;
}

/** Per-file bookkeeping; a handle keeps a reference so renames carry it along. */
interface FileState {
  durableLength: number;
  /** Durable bytes overwritten or truncated away since the last sync, oldest first. */
  overwrites: Overwrite[];
}

type EntryChange =
  | { readonly kind: 'create'; readonly path: string }
  | { readonly kind: 'mkdir'; readonly path: string }
  | { readonly kind: 'unlink'; readonly path: string; readonly image: Uint8Array }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly replaced: Uint8Array | null };

interface PendingChange {
  readonly change: EntryChange;
  /** Directories whose fsync has not yet happened since the change. */
  readonly unsyncedDirectories: Set<string>;
}

const FATES: readonly CrashFate[] = ['drop', 'tear', 'tear', 'garble', 'garble', 'keep'];
const SIMULATED_SYNC_LATENCY = (): Promise<void> => new Promise((done) => setImmediate(done));

function deadHandleError(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EBADF: handle for ${path} was lost in a simulated crash`), {
    code: 'EBADF',
    syscall: 'write',
    path,
  });
}

class CrashSimFileHandle implements FileHandle {
  constructor(
    private readonly owner: CrashSimFileSystem,
    private readonly inner: FileHandle,
    private readonly state: FileState | undefined,
    private readonly epoch: number,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  size(): number {
    this.checkAlive();
    return this.inner.size();
  }

  read(target: Uint8Array, position: number): number {
    this.checkAlive();
    return this.inner.read(target, position);
  }

  write(data: Uint8Array, position: number): void {
    this.checkAlive();
    const state = this.writableState();
    saveDurableBytes(this.inner, state, position, position + data.length);
    this.inner.write(data, position);
  }

  truncate(length: number): void {
    this.checkAlive();
    const state = this.writableState();
    saveDurableBytes(this.inner, state, length, Math.max(length, this.inner.size()));
    this.inner.truncate(length);
  }

  async sync(): Promise<void> {
    await this.syncData();
  }

  async datasync(): Promise<void> {
    await this.syncData();
  }

  datasyncNow(): void {
    this.checkAlive();
    this.markDurable(this.inner.size(), this.state?.overwrites.length ?? 0);
  }

  close(): void {
    this.inner.close();
  }

  private async syncData(): Promise<void> {
    this.checkAlive();
    // The data that counts is what was written when the call was made.
    const lengthAtCall = this.inner.size();
    const overwritesAtCall = this.state?.overwrites.length ?? 0;
    await SIMULATED_SYNC_LATENCY();
    this.checkAlive();
    this.markDurable(lengthAtCall, overwritesAtCall);
  }

  /** The first `length` bytes and the first `overwrites` overwrites are now on the simulated disk. */
  private markDurable(length: number, overwrites: number): void {
    if (this.state === undefined) return;
    this.state.durableLength = length;
    this.state.overwrites.splice(0, overwrites);
  }

  private writableState(): FileState {
    if (this.state === undefined) {
      throw Object.assign(new Error(`EBADF: ${this.path} was opened read-only`), { code: 'EBADF' });
    }
    return this.state;
  }

  private checkAlive(): void {
    if (this.owner.epoch !== this.epoch) throw deadHandleError(this.path);
  }
}

/** Remembers the durable bytes in [from, to) that are about to change. */
function saveDurableBytes(handle: FileHandle, state: FileState, from: number, to: number): void {
  const end = Math.min(to, state.durableLength);
  if (from >= end) return;
  const bytes = new Uint8Array(end - from);
  const read = handle.read(bytes, from);
  state.overwrites.push({ position: from, bytes: bytes.subarray(0, read) });
}

/** What a file would hold if nothing unsynced survived. */
function durableImage(current: Uint8Array, state: FileState): Uint8Array {
  const image = new Uint8Array(state.durableLength);
  image.set(current.subarray(0, Math.min(current.length, state.durableLength)));
  for (let i = state.overwrites.length - 1; i >= 0; i--) {
    const { position, bytes } = state.overwrites[i]!;
    image.set(bytes.subarray(0, Math.max(0, Math.min(bytes.length, image.length - position))), position);
  }
  return image;
}

export class CrashSimFileSystem implements FileSystem {
  private crashes = 0;
  private readonly inner = new NodeFileSystem();
  private readonly random: SeededRandom;
  private readonly files = new Map<string, FileState>();
  private pending: PendingChange[] = [];

  constructor(private readonly options: CrashSimOptions) {
    this.random = new SeededRandom(options.seed);
  }

  /** Bumped by every crash; handles from an older epoch are dead. */
  get epoch(): number {
    return this.crashes;
  }

  open(path: string, mode: OpenMode): FileHandle {
    const absolute = resolve(path);
    const existed = this.inner.exists(absolute);
    const before = existed && mode === 'createOrTruncate' ? this.inner.readFile(absolute) : undefined;
    const handle = this.inner.open(absolute, mode);
    if (mode === 'read') return new CrashSimFileHandle(this, handle, undefined, this.epoch);
    if (!existed) this.record({ kind: 'create', path: absolute }, [dirname(absolute)]);
    const state = this.stateFor(absolute, before?.length ?? handle.size());
    if (before !== undefined && before.length > 0) state.overwrites.push({ position: 0, bytes: before });
    return new CrashSimFileHandle(this, handle, state, this.epoch);
  }

  readFile(path: string): Uint8Array {
    return this.inner.readFile(path);
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
    const missing: string[] = [];
    for (let dir = resolve(path); !this.inner.exists(dir); dir = dirname(dir)) missing.unshift(dir);
    this.inner.mkdir(path);
    for (const dir of missing) this.record({ kind: 'mkdir', path: dir }, [dirname(dir)]);
  }

  rename(from: string, to: string): void {
    const source = resolve(from);
    const target = resolve(to);
    const replaced = this.inner.exists(target) ? this.durableImageOf(target) : null;
    this.inner.rename(source, target);
    this.record({ kind: 'rename', from: source, to: target, replaced }, [dirname(source), dirname(target)]);
    const state = this.files.get(source);
    this.files.delete(target);
    if (state !== undefined) {
      this.files.delete(source);
      this.files.set(target, state);
    }
  }

  unlink(path: string): void {
    const absolute = resolve(path);
    const image = this.inner.exists(absolute) ? this.durableImageOf(absolute) : new Uint8Array(0);
    this.inner.unlink(absolute);
    this.files.delete(absolute);
    this.record({ kind: 'unlink', path: absolute, image }, [dirname(absolute)]);
  }

  async syncDirectory(path: string): Promise<void> {
    const directory = resolve(path);
    const epoch = this.epoch;
    const changesAtCall = this.pending.slice();
    await SIMULATED_SYNC_LATENCY();
    if (epoch !== this.epoch) throw deadHandleError(directory);
    for (const change of changesAtCall) change.unsyncedDirectories.delete(directory);
    this.pending = this.pending.filter((change) => change.unsyncedDirectories.size > 0);
  }

  /** Files with bytes or entries that a crash could still lose. */
  unsyncedPaths(): string[] {
    const paths = new Set<string>();
    for (const [path, state] of this.files) {
      if (this.isDirty(path, state)) paths.add(path);
    }
    for (const { change } of this.pending) paths.add(change.kind === 'rename' ? change.to : change.path);
    return [...paths].sort();
  }

  /** Simulates a power loss now. See the class comment for what it does. */
  crash(): CrashReport {
    this.crashes++;
    const files = this.applyDataFates();
    const undone = this.undoEntryChanges();
    this.files.clear();
    this.pending = [];
    return { seed: this.options.seed, files, undone };
  }

  private stateFor(path: string, durableLength: number): FileState {
    let state = this.files.get(path);
    if (state === undefined) {
      state = { durableLength, overwrites: [] };
      this.files.set(path, state);
    }
    return state;
  }

  private record(change: EntryChange, directories: string[]): void {
    this.pending.push({ change, unsyncedDirectories: new Set(directories) });
  }

  private isDirty(path: string, state: FileState): boolean {
    if (!this.inner.exists(path)) return false;
    return this.inner.stat(path).size !== state.durableLength || state.overwrites.length > 0;
  }

  private durableImageOf(path: string): Uint8Array {
    const current = this.inner.readFile(path);
    const state = this.files.get(path);
    return state === undefined ? current : durableImage(current, state);
  }

  private applyDataFates(): CrashReport['files'] {
    const report: Array<{ path: string; fate: CrashFate; length: number }> = [];
    for (const [path, state] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!this.isDirty(path, state)) continue;
      const fate = this.random.pick(FATES);
      const survivor = this.survivingBytes(this.inner.readFile(path), state, fate);
      nodeFs.writeFileSync(path, survivor);
      report.push({ path, fate, length: survivor.length });
    }
    return report;
  }

  private survivingBytes(current: Uint8Array, state: FileState, fate: CrashFate): Uint8Array {
    if (fate === 'keep') return current;
    const image = durableImage(current, state);
    if (fate === 'drop' || current.length <= image.length) return image;
    const length = this.random.intBetween(image.length, current.length);
    const out = new Uint8Array(length);
    out.set(current.subarray(0, length));
    // Durable bytes that were overwritten may or may not have been rewritten.
    for (const { position, bytes } of state.overwrites) {
      if (this.random.chance(0.5)) out.set(bytes.subarray(0, Math.max(0, Math.min(bytes.length, length - position))), position);
    }
    if (fate === 'garble' && length > image.length) this.garble(out, image.length);
    return out;
  }

  /** Overwrites a random window of the unsynced tail with noise or zeros, as a torn sector would. */
  private garble(bytes: Uint8Array, from: number): void {
    const start = this.random.intBetween(from, bytes.length - 1);
    const end = this.random.intBetween(start + 1, bytes.length);
    const noise = this.random.chance(0.5) ? this.random.bytes(end - start) : new Uint8Array(end - start);
    bytes.set(noise, start);
  }

  private undoEntryChanges(): string[] {
    const keep = new Map<string, number>();
    const cut = new Set<string>();
    const undone: PendingChange[] = [];
    for (const pending of this.pending) {
      let lost = false;
      for (const dir of pending.unsyncedDirectories) {
        if (!keep.has(dir)) keep.set(dir, this.random.intBetween(0, this.countIn(dir)));
        const left = keep.get(dir)!;
        keep.set(dir, left - 1);
        if (left <= 0 || cut.has(dir)) lost = true;
      }
      if (!lost) continue;
      for (const dir of pending.unsyncedDirectories) cut.add(dir);
      undone.push(pending);
    }
    for (const { change } of undone.reverse()) this.undo(change);
    return undone.map(({ change }) => describe(change));
  }

  private countIn(directory: string): number {
    return this.pending.filter((change) => change.unsyncedDirectories.has(directory)).length;
  }

  private undo(change: EntryChange): void {
    switch (change.kind) {
      case 'create':
        nodeFs.rmSync(change.path, { force: true });
        return;
      case 'mkdir':
        nodeFs.rmSync(change.path, { recursive: true, force: true });
        return;
      case 'unlink':
        if (nodeFs.existsSync(dirname(change.path))) nodeFs.writeFileSync(change.path, change.image);
        return;
      case 'rename':
        if (nodeFs.existsSync(change.to) && nodeFs.existsSync(dirname(change.from))) nodeFs.renameSync(change.to, change.from);
        if (change.replaced !== null && nodeFs.existsSync(dirname(change.to))) nodeFs.writeFileSync(change.to, change.replaced);
        return;
    }
  }
}

function describe(change: EntryChange): string {
  return change.kind === 'rename' ? `rename ${change.from} -> ${change.to}` : `${change.kind} ${change.path}`;
}
