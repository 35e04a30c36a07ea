import type { WalEntryInput } from '@silt/wal';
import { byteLengthOf, encodeRecord, visitEncodedRecord } from '@silt/wal/internal';
import { TAIL_ENTRY_OVERHEAD_BYTES, TailTable, type WalkableRecord } from './tail-table.js';

/**
 * The writes this process forwarded to the writer and had acknowledged,
 * until its reads see them (a client of the writer actor). An
 * acknowledgement only files the batch as it was sent (`add`): no copy,
 * and no read of the log, which holds every other process's writes too, so
 * a client that only writes never reads it. Before a read the reader reads
 * the log up to them (`ReadOnlyIndex`'s `settleOwnWrites`: the marker
 * covers them, so it is one synchronous read for every write since the
 * last read), and `settle` lays out what it still cannot see (the log
 * flushed away before a refresh, tailing paused or off) in a table stacked
 * above the log's tail. A write in the table is newer than anything below
 * it: it goes as soon as the reader's visible sequence reaches it, and from
 * then on the tail or a segment holds it, or a newer write of its key.
 *
 * Writes come as the client sent them (`WalEntryInput`: the key and value
 * as given, strings as text), with the last sequence number of their
 * batch; they take the numbers before it in order, as the log does.
 */
export class OwnWrites {
  /** Undefined while it holds nothing. */
  private current: TailTable | undefined;
  /** Batches taken and not laid out in the table yet, oldest first. */
  private waiting: WaitingBatch[] = [];
  private waitingBytes = 0;
  private last = 0;

  /** The table to stack above the log's tail, as `settle` left it; undefined while it holds nothing. */
  get table(): TailTable | undefined {
    return this.current;
  }

  /** Nothing waits and the table is empty: a read has nothing to settle (every read of a reader that is no client). */
  get isEmpty(): boolean {
    return this.current === undefined && this.waiting.length === 0;
  }

  /** The last sequence number of the batches waiting to be laid out; 0 if none waits. */
  get newestWaiting(): number {
    return this.waiting.length === 0 ? 0 : this.last;
  }

  /** Key and value bytes held, laid out or waiting, with the tail table's overhead a key. */
  get bytes(): number {
    return (this.current?.bytes ?? 0) + this.waitingBytes;
  }

  /**
   * Takes a batch acknowledged as `lastSequence`; false, taking nothing,
   * when it does not follow the last batch taken (its acknowledgement came
   * late): the caller then waits for the log instead.
   */
  add(entries: readonly WalEntryInput[], lastSequence: number): boolean {
    if (lastSequence - entries.length < this.last) return false;
    const bytes = batchBytes(entries);
    this.waiting.push({ entries, lastSequence, bytes });
    this.waitingBytes += bytes;
    this.last = lastSequence;
    return true;
  }

  /** Drops the waiting batches at or below `visible`, which the reads see now. */
  forget(visible: number): void {
    let gone = 0;
    while (gone < this.waiting.length && this.waiting[gone]!.lastSequence <= visible) this.waitingBytes -= this.waiting[gone++]!.bytes;
    if (gone > 0) this.waiting.splice(0, gone);
  }

  /**
   * Before a read that sees every write up to `visible`: drops what it
   * sees, and lays out the rest in the table. True when the table is
   * another object than before (the view over it must be made again).
   */
  settle(visible: number): boolean {
    this.forget(visible);
    const before = this.current;
    if (this.waiting.length > 0) {
      const table = (this.current ??= new TailTable());
      for (const batch of this.waiting) table.applyRecord(recordOf(batch));
      this.waiting = [];
      this.waitingBytes = 0;
    }
    // Also what was just laid out, should a batch straddle `visible` (a log record holds whole batches: it should not).
    this.current = this.prunedTable(visible);
    return this.current !== before;
  }

  /** The table without the writes at or below `visible`: undefined if none is left. */
  private prunedTable(visible: number): TailTable | undefined {
    const current = this.current;
    return current === undefined || current.lastSequence <= visible ? undefined : current.prunedThrough(visible);
  }
}

/** A batch as it was acknowledged, with what it will take in the table. */
interface WaitingBatch {
  readonly entries: readonly WalEntryInput[];
  readonly lastSequence: number;
  readonly bytes: number;
}

function batchBytes(entries: readonly WalEntryInput[]): number {
  let bytes = 0;
  for (const entry of entries) {
    bytes += TAIL_ENTRY_OVERHEAD_BYTES + (entry.keyBytes ?? byteLengthOf(entry.key));
    if (entry.kind === 'put') bytes += entry.valueBytes ?? byteLengthOf(entry.value);
  }
  return bytes;
}

/**
 * The batch laid out as the log lays it out (`encodeRecord`: one rule for
 * the bytes of a key and value, and for which values are text), walked as a
 * tailed record is. The table copies what it keeps; the record goes.
 */
function recordOf(batch: WaitingBatch): WalkableRecord {
  const firstSeq = batch.lastSequence - batch.entries.length + 1;
  const encoded = encodeRecord(firstSeq, batch.entries);
  return { firstSeq, visit: (visitor) => visitEncodedRecord(encoded, visitor) };
}
