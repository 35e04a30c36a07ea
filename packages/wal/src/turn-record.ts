import type { Settle } from './group-commit.js';
import { encodeRecord, originsBytes, RECORD_HEADER_BYTES, type WriteOrigin } from './record-format.js';
import type { WalEntryInput } from './wal-entry.js';

/** Coalescing appends larger than this get a record of their own. */
export const COALESCED_APPEND_BYTES = 64 * 1024;
/** A turn record this large goes to the group committer at once, rather than at the end of the turn. */
export const TURN_RECORD_BYTES = 1024 * 1024;

/**
 * The coalescing appends of one event-loop turn, gathered into one record:
 * thousands of concurrent single-key writes then cost one record, one
 * group-commit job and one promise instead of one each. Their sequence
 * numbers are handed out as they join; the record goes to the group
 * committer at the end of the turn, or before anything appended after it,
 * and is acknowledged as one.
 */
export class TurnRecord {
  private readonly entries: WalEntryInput[] = [];
  private readonly origins: WriteOrigin[] = [];
  /** Bytes of the header and entries; the origins are counted apart, since their count prefix comes once. */
  private bytes = RECORD_HEADER_BYTES;
  /** Settles once the record is durable per the mode, or refused. Shared by every append in it. */
  readonly durable: Promise<void>;
  private settle!: Settle<void>;

  constructor(readonly firstSequence: number) {
    this.durable = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  get lastSequence(): number {
    return this.firstSequence + this.entries.length - 1;
  }

  /** Whether `entryBytes` more would take the record past `limit` (an empty record takes anything). */
  wouldPass(entryBytes: number, limit: number, origin: WriteOrigin | undefined): boolean {
    const origins = this.origins.length + (origin === undefined ? 0 : 1);
    return this.entries.length > 0 && this.bytes + entryBytes + originsBytes(origins) > limit;
  }

  add(entries: readonly WalEntryInput[], entryBytes: number, origin: WriteOrigin | undefined): void {
    for (const entry of entries) this.entries.push(entry);
    this.bytes += entryBytes;
    if (origin !== undefined) this.origins.push(origin);
  }

  encode(): Uint8Array {
    return encodeRecord(this.firstSequence, this.entries, this.bytes + originsBytes(this.origins.length), this.origins);
  }

  /** Hands the record's outcome to the group committer, which settles it. */
  get outcome(): Settle<void> {
    return this.settle;
  }
}
