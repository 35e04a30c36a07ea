import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileSystem } from './file-system.js';
import { isNotFound } from './errors.js';

/**
 * The durability chain: data is on disk only after the file is fsynced, and
 * a name is on disk only after its directory is fsynced. Nothing may name a
 * file (a manifest row, a rename target) before both have happened.
 */

/** Writes a new file and makes both its bytes and its name durable. Fails if it exists. */
export async function writeFileDurably(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const handle = fs.open(path, 'createNew');
  try {
    handle.write(data, 0);
    await handle.sync();
  } finally {
    handle.close();
  }
  await fs.syncDirectory(dirname(path));
}

/**
 * Replaces `path` atomically and durably: write a temp file beside it, fsync
 * it, rename it over `path`, fsync the directory. After a crash `path` holds
 * either the old bytes or the new ones, never a mix.
 */
export async function replaceFileAtomically(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const temp = temporaryPathFor(path);
  const handle = fs.open(temp, 'createNew');
  try {
    handle.write(data, 0);
    await handle.sync();
  } catch (error) {
    handle.close();
    fs.unlink(temp);
    throw error;
  }
  handle.close();
  fs.rename(temp, path);
  await fs.syncDirectory(dirname(path));
}

/** Deletes a file and makes the deletion durable. A missing file is not an error. */
export async function removeFileDurably(fs: FileSystem, path: string): Promise<void> {
  try {
    fs.unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return;
  }
  await fs.syncDirectory(dirname(path));
}

/** Creates a directory (and parents) and makes its name durable in its parent. */
export async function makeDirectoryDurably(fs: FileSystem, path: string): Promise<void> {
  if (fs.exists(path)) return;
  fs.mkdir(path);
  await fs.syncDirectory(dirname(path));
}

/** Temp files end in `.tmp` so that recovery can recognise and remove orphans. */
export const TEMP_SUFFIX = '.tmp';

export function temporaryPathFor(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

export function isTemporaryName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}
