import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { WRITER_SOCKET_FILE } from '@silt/fs';

/** Linux's `sun_path` holds 108 bytes, the closing NUL among them. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Where to listen on or connect to the writer actor's socket. A Unix socket
 * path is limited to 107 bytes, and index directories are often deeper
 * than that: a longer path is reached through this process's own open
 * handle on the directory (`/proc/self/fd/N/writer.sock`), which the kernel
 * resolves like the directory itself, permissions included. Close the
 * address when the socket is no longer used, to release that handle.
 */
export class SocketAddress {
  private constructor(
    /** The socket file's real path, for unlinking and chmod. */
    readonly file: string,
    /** What `listen` and `connect` take: `file`, or a short path through the directory's handle. */
    readonly path: string,
    private directoryHandle: number | undefined,
  ) {}

  static of(directory: string): SocketAddress {
    const file = join(directory, WRITER_SOCKET_FILE);
    if (Buffer.byteLength(file) <= MAX_SOCKET_PATH_BYTES) return new SocketAddress(file, file, undefined);
    const handle = openSync(directory, 'r');
    return new SocketAddress(file, `/proc/self/fd/${handle}/${WRITER_SOCKET_FILE}`, handle);
  }

  close(): void {
    if (this.directoryHandle === undefined) return;
    closeSync(this.directoryHandle);
    this.directoryHandle = undefined;
  }
}
