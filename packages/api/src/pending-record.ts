import type { PreparedOperation } from './write-batch.js';

/**
 * Single-key writes (`set`, `delete`) of one event-loop turn, gathered into
 * one log record: thousands of concurrent sets then cost one record, one
 * log job and one promise instead of one each. The writes are in the
 * memtable at once (read-your-writes); the record goes to the log at the
 * end of the turn, before any later write's record, and acknowledges them
 * together, as group commit would have anyway.
 */
export class PendingRecord {
  readonly operations: PreparedOperation[] = [];
  /** About how many bytes the record will take, to cut it well below the log's record limit. */
  bytes = 0;
  /** Settles as the log's append of this record does. */
  readonly appended: Promise<unknown>;
  /** What every write in the record returns to its caller. */
  readonly acknowledged: Promise<void>;
  private settle!: { resolve(value: unknown): void; reject(error: unknown): void };

  /** `acknowledge` turns the append into the callers' promise (the writer maps its errors). */
  constructor(acknowledge: (appended: Promise<unknown>) => Promise<void>) {
    this.appended = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // A failure reaches the writers through `acknowledged`; this one must not count as unhandled.
    this.appended.catch(() => undefined);
    this.acknowledged = acknowledge(this.appended);
  }

  add(operation: PreparedOperation): void {
    this.operations.push(operation);
    this.bytes += operation.id.length + operation.valueBytes + ENTRY_OVERHEAD_BYTES;
  }

  /** Hands the log's append promise over to everyone waiting on this record. */
  follow(append: Promise<unknown>): void {
    append.then(this.settle.resolve, this.settle.reject);
  }
}

/** A log entry's header (kind, lengths), rounded up. */
const ENTRY_OVERHEAD_BYTES = 16;
