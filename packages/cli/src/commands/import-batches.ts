import type { Index, IndexOptions, IndexStats, Key, Value } from 'silt';
import type { CommandContext } from '../support/command-context.js';
import { openWriter } from '../support/index-access.js';
import { plural } from '../support/formatting.js';

/** Characters of keys and values per batch: well inside one 16 MiB log record even at 3 UTF-8 bytes a character. */
const BATCH_CHARS = 4 * 1024 * 1024;

/**
 * The writer an import opens. It reads nothing back, so segments stay on
 * disk (`file` access) rather than in its memory; smaller memtables bound
 * what waits for a flush. It does not merge: on 2 cores the merges took the
 * core the flushes need while the import ran (1 M lines: 3.6 s with them,
 * 3.1 s without), and the import stopped them at its close anyway; the next
 * writer merges by its policy, `silt compact` at once.
 */
const IMPORT_INDEX_OPTIONS: IndexOptions = {
  accessMode: 'file',
  cacheBytes: 1024 * 1024,
  memtableBytes: 16 * 1024 * 1024,
  autoMerge: false,
};

/**
 * Records in atomic batches (`mset`), one in flight while the next is
 * parsed, so parsing and the log write overlap and a batch costs one
 * `await`. The index is opened (created if need be) only when the first
 * batch is sent: an import that fails before it writes nothing.
 */
export class BatchWriter {
  private index: Index | undefined;
  private batch: Array<readonly [Key, Value]> = [];
  private batchChars = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private acknowledged = 0;
  private sentBatches = 0;

  constructor(
    private readonly directory: string,
    private readonly batchSize: number,
    private readonly context: CommandContext,
  ) {}

  /** Records acknowledged so far: whole batches, in order. */
  get imported(): number {
    return this.acknowledged;
  }

  get batches(): number {
    return this.sentBatches;
  }

  get opened(): boolean {
    return this.index !== undefined;
  }

  /** Adds a record; resolves at once unless the batch is full, then when the one before it is acknowledged. */
  add(pair: readonly [Key, Value]): Promise<void> | undefined {
    this.batch.push(pair);
    this.batchChars += pair[0].length + pair[1].length;
    return this.batch.length >= this.batchSize || this.batchChars >= BATCH_CHARS ? this.send() : undefined;
  }

  /** Sends what is left and waits until every batch is acknowledged. */
  async drain(): Promise<void> {
    if (this.batch.length > 0) await this.send();
    await this.inFlight;
  }

  /**
   * Flushes (readers see the records, and the log they came through is
   * truncated), closes, and returns the index's last stats. It does not wait
   * for the merges the flushes started: close stops them (a merge only
   * rewrites; its inputs stay) and the next writer merges by its policy, so
   * an import ends as soon as its records are in segments. Opens the index
   * first when nothing was sent and `create` is set (an empty input still
   * makes an index).
   */
  async finish(create: boolean): Promise<IndexStats | undefined> {
    const index = this.index ?? (create ? await this.open() : undefined);
    if (index === undefined) return undefined;
    try {
      await this.drain();
      await index.flush();
      return index.stats();
    } finally {
      await index.close();
    }
  }

  /** After a failure: closes the index if it was opened (close keeps every acknowledged batch). */
  async abandon(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    await this.index?.close();
  }

  private async send(): Promise<void> {
    const index = this.index ?? (await this.open());
    await this.inFlight;
    this.context.interrupts.throwIfInterrupted(`${plural(this.acknowledged, 'record')} imported in whole batches, the rest not`);
    const pairs = this.batch;
    this.batch = [];
    this.batchChars = 0;
    this.inFlight = index.mset(pairs).then(() => {
      this.acknowledged += pairs.length;
      this.sentBatches++;
    });
    // Awaited before the next batch; until then a failure must not count as unhandled.
    this.inFlight.catch(() => undefined);
  }

  private async open(): Promise<Index> {
    this.index = await openWriter(this.directory, true, IMPORT_INDEX_OPTIONS);
    return this.index;
  }
}
