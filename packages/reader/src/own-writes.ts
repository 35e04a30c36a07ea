import type { WalEntryInput } from '@silt/wal';
import { TailTable } from './tail-table.js';

/**
 * The writes this process forwarded to the writer and had acknowledged,
 * past what its reads see from the log (a client of the writer actor): a
 * table stacked above the log's tail, so that the process reads its own
 * write at once without reading the log, which holds every other
 * process's writes too. Every write it holds is newer than anything the
 * sources below it show, because it is dropped as soon as the reader's
 * visible sequence reaches it (`prunedThrough`): from then on the log's
 * tail or a segment holds that write, or a newer one of the same key.
 *
 * Writes come as the client sent them (`WalEntryInput`: the key and value
 * as given, strings as text), with the last sequence number of their
 * batch; they take the numbers before it in order, as the log does.
 */
export class OwnWrites {
  private current = new TailTable();

  /** The table to stack above the log's tail; undefined while it holds nothing. */
  get table(): TailTable | undefined {
    return this.current.size === 0 ? undefined : this.current;
  }

  /** Key and value bytes held, with the tail table's overhead a key. */
  get bytes(): number {
    return this.current.bytes;
  }

  /**
   * Takes a batch acknowledged as `lastSequence`; false, taking nothing,
   * when it does not follow the last batch taken (its acknowledgement came
   * late): the caller then waits for the log instead.
   */
  add(entries: readonly WalEntryInput[], lastSequence: number): boolean {
    const firstSequence = lastSequence - entries.length + 1;
    if (firstSequence <= this.current.lastSequence) return false;
    for (let n = 0; n < entries.length; n++) applyEntry(this.current, firstSequence + n, entries[n]!);
    return true;
  }

  /** Drops the writes at or below `visible`, which the reads see now; true if any went. */
  prunedThrough(visible: number): boolean {
    const pruned = this.current.prunedThrough(visible);
    if (pruned === this.current) return false;
    this.current = pruned;
    return true;
  }
}

/** Lays one write out as the log would (key, then value bytes) and applies it. */
function applyEntry(table: TailTable, sequence: number, entry: WalEntryInput): void {
  const keyLength = entry.keyBytes ?? byteLength(entry.key);
  if (entry.kind === 'delete') {
    const bytes = Buffer.allocUnsafe(keyLength);
    writeInto(bytes, entry.key, 0);
    table.applyWrite(sequence, 'delete', bytes, 0, keyLength, keyLength, 0);
    return;
  }
  const valueLength = entry.valueBytes ?? byteLength(entry.value);
  const bytes = Buffer.allocUnsafe(keyLength + valueLength);
  writeInto(bytes, entry.key, 0);
  writeInto(bytes, entry.value, keyLength);
  const isText = typeof entry.value === 'string' || entry.valueIsText === true;
  table.applyWrite(sequence, isText ? 'put-text' : 'put', bytes, 0, keyLength, keyLength, valueLength);
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}

function writeInto(bytes: Buffer, data: Uint8Array | string, offset: number): void {
  if (typeof data === 'string') bytes.write(data, offset, 'utf8');
  else bytes.set(data, offset);
}
