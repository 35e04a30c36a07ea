import { ValidationError } from '@silt/fs';
import type { Key, Value } from '@silt/segments';
import { naming, prepareDelete, preparePut, type EncodeValue, type PreparedOperation } from './write-batch.js';

/** What a chained batch needs from its index: the value checks, and the one atomic write at the end. */
export interface BatchTarget {
  readonly maxValueBytes: number;
  readonly encode: EncodeValue;
  commit(operations: PreparedOperation[]): Promise<void>;
}

/**
 * `index.batch().put(k, v).del(k).write()`: operations gathered, then
 * written as one atomic log record, like `index.batch([...])`. Each `put`
 * and `del` checks its arguments at once and throws a ValidationError for a
 * bad one (the operation is not added; nothing is written until `write`).
 */
export class ChainedBatch<V = Value> {
  private operations: PreparedOperation[] = [];
  private written = false;

  constructor(private readonly target: BatchTarget) {}

  /** Operations queued so far. */
  get length(): number {
    return this.operations.length;
  }

  put(key: Key, value: V): this {
    this.checkOpen();
    const { maxValueBytes, encode } = this.target;
    this.operations.push(naming(`batch operation #${this.operations.length}`, () => preparePut(key, encode(value), maxValueBytes)));
    return this;
  }

  del(key: Key): this {
    this.checkOpen();
    this.operations.push(naming(`batch operation #${this.operations.length}`, () => prepareDelete(key)));
    return this;
  }

  /** Drops the operations queued so far; the batch can still be used. */
  clear(): this {
    this.checkOpen();
    this.operations = [];
    return this;
  }

  /**
   * Writes every queued operation as one atomic record: after any crash all
   * of them are there or none. Resolves when durable per the index's mode.
   * A batch is written once.
   */
  write(): Promise<void> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    this.written = true;
    const operations = this.operations;
    this.operations = [];
    return this.target.commit(operations);
  }

  private checkOpen(): void {
    if (this.written) throw new ValidationError('this batch was written already; start another with index.batch()');
  }
}
