import type { FileSystem } from './file-system.js';

/**
 * Memory one thread reuses from one task to the next, for large buffers that
 * live only while a task runs synchronously (a flush reading its log range).
 *
 * Why: the first touch of freshly allocated memory costs a page fault per
 * 4 KiB. On the virtual machines silt was measured on, that is ~12 µs a page:
 * reading a 33 MB log file into a new buffer took ~100 ms, into a buffer
 * touched before ~4 ms. An arena that keeps its storage pays the faults once.
 *
 * What `take` returns stays valid until the next `reset`. The owner takes,
 * uses and drops its slices with no `await` between `reset` and the last
 * use, so two tasks interleaved on one event loop never share a byte.
 */
export class ScratchArena {
  private storage = new Uint8Array(0);
  private used = 0;

  /** Starts a task: every slice taken before may now be overwritten. */
  reset(): void {
    this.used = 0;
  }

  /** Bytes held (what the arena costs its thread). */
  get capacity(): number {
    return this.storage.length;
  }

  /**
   * `length` bytes, not zeroed. When the storage is full, a larger one
   * replaces it (slices taken before keep the old one alive until dropped),
   * so the storage settles at the largest task's total.
   */
  take(length: number): Uint8Array {
    this.reserve(length);
    const slice = this.storage.subarray(this.used, this.used + length);
    this.used += length;
    return slice;
  }

  /**
   * Room for `length` more bytes of takes, made at once: a task that knows
   * its total up front (a flush's log files) calls it first, so its takes
   * share one storage. Grown take by take instead, a task that outgrows the
   * storage midway leaves its first slices in the old storage and touches
   * only the start of the new one, and the next task faults the rest of it
   * in: on the VMs of the note above, a flush of 40 MB of log paid ~12,700
   * faults at its second run as well as ~18,000 at its first.
   */
  reserve(length: number): void {
    if (this.used + length <= this.storage.length) return;
    // Zeroed lazily by the OS: room beyond what a task touches costs no memory until it is used.
    this.storage = new Uint8Array(Math.max(2 * this.storage.length, this.used + length));
    this.used = 0;
  }

  /**
   * The whole file at `path` as it is now, read into this arena: what
   * `fs.readFile` returns, without a fresh buffer. A file that grows while it
   * is read is read up to its size at the start.
   */
  readFile(fs: FileSystem, path: string): Uint8Array {
    const handle = fs.open(path, 'read');
    try {
      const target = this.take(handle.size());
      return target.subarray(0, handle.read(target, 0));
    } finally {
      handle.close();
    }
  }
}
