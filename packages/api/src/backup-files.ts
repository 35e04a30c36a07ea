import { join } from 'node:path';
import { IoError, type FileHandle, type FileSystem } from '@silt/fs';
import { asIoError, attempt, errnoOf } from '@silt/fs/internal';

/** Bytes a copy reads and writes at a time. */
const COPY_CHUNK_BYTES = 1024 * 1024;
/** A copy lets the event loop turn (a progress redraw, a signal) this often. */
const YIELD_EVERY_BYTES = 16 * COPY_CHUNK_BYTES;

/** Called as bytes are copied; what it throws stops the copy. */
export type CopiedBytes = (bytes: number) => void;

/**
 * Gives `target` the bytes of `source`, durably (fsynced; the caller syncs
 * the directory): a hard link when both are on one file system (an
 * immutable file can share its inode), else a copy. Returns whether it linked.
 */
export async function linkOrCopy(fs: FileSystem, source: string, target: string, bytes: number, onCopied: CopiedBytes): Promise<boolean> {
  if (fs.link !== undefined && tryLink(fs, source, target)) {
    // The link adds a name, not bytes; the inode is synced for the chain's sake (cheap: nothing is dirty).
    await syncFile(fs, target);
    onCopied(bytes);
    return true;
  }
  const handle = attempt('open', source, () => fs.open(source, 'read'));
  try {
    await copyPrefix(fs, handle, target, bytes, onCopied);
  } finally {
    handle.close();
  }
  return false;
}

/** EXDEV (another file system) and EPERM/ENOTSUP (one without hard links) mean "copy instead"; anything else is an error. */
function tryLink(fs: FileSystem, source: string, target: string): boolean {
  try {
    fs.link!(source, target);
    return true;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'EXDEV' || errno === 'EPERM' || errno === 'ENOTSUP' || errno === 'EOPNOTSUPP' || errno === 'EMLINK') return false;
    throw asIoError('link', target, error);
  }
}

/** Writes the first `bytes` bytes of `source` to the new file `target` and fsyncs it. */
export async function copyPrefix(fs: FileSystem, source: FileHandle, target: string, bytes: number, onCopied: CopiedBytes): Promise<void> {
  const output = attempt('create', target, () => fs.open(target, 'createNew'));
  try {
    const chunk = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(1, bytes)));
    for (let at = 0; at < bytes;) {
      const wanted = Math.min(chunk.length, bytes - at);
      const read = attempt('read', source.path, () => source.read(chunk.subarray(0, wanted), at));
      // A file shorter than the bytes it was to give (a log cut below its acknowledged offset) must not make a short copy.
      if (read === 0) throw new IoError('read', source.path, new Error(`it ended at ${at} of the ${bytes} bytes to copy`));
      attempt('write', target, () => output.write(chunk.subarray(0, read), at));
      at += read;
      onCopied(read);
      if (at % YIELD_EVERY_BYTES < read) await new Promise((resolve) => setImmediate(resolve));
    }
    await attempt('fsync', target, () => output.sync());
  } finally {
    output.close();
  }
}

async function syncFile(fs: FileSystem, path: string): Promise<void> {
  const handle = attempt('open', path, () => fs.open(path, 'read'));
  try {
    await attempt('fsync', path, () => handle.sync());
  } finally {
    handle.close();
  }
}

/**
 * Removes a directory this call made and everything in it, best effort: a
 * failed backup's temporary directory. Without `removeDirectory` (a
 * simulated file system) the emptied directories stay.
 */
export function removeTree(fs: FileSystem, directory: string): void {
  try {
    if (!fs.exists(directory)) return;
    for (const name of fs.list(directory)) {
      const path = join(directory, name);
      if (fs.stat(path).isDirectory) removeTree(fs, path);
      else fs.unlink(path);
    }
    fs.removeDirectory?.(directory);
  } catch {
    // Cleaning up after a failure must not hide the failure; what is left is a temporary name, never an index.
  }
}
