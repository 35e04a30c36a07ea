import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator, type AbstractIteratorOptions } from 'abstract-level';
import type { Key, Value } from 'silt';
import { keyInFormat, valueInFormat, type NativeFormat } from './level-formats.js';
import { RangeCursor, type LevelRange, type RangeSource } from './range-cursor.js';
import { fromStoredKey } from './stored-keys.js';

/** The options abstract-level hands `_iterator`, `_keys` and `_values`: range keys encoded, formats native. */
export interface PrivateIteratorOptions extends LevelRange {
  readonly keyEncoding: NativeFormat;
  readonly valueEncoding?: NativeFormat;
  readonly limit: number;
}

type Entry = [Uint8Array, Value];
type Options = AbstractIteratorOptions<Key, Value>;

/*
 * The three iterator kinds of abstract-level do not share a base class, so
 * each has the same five short methods over a RangeCursor; only what an
 * item is differs. Reads are synchronous underneath: each method does its
 * work at once and returns a settled promise. abstract-level keeps the
 * count and the limit; `_all` takes what is left of the limit.
 */

/** `db.iterator()`: [key, value] entries. */
export class SiltIterator<TDatabase> extends AbstractIterator<TDatabase, Key, Value> {
  private readonly cursor: RangeCursor;
  private readonly toItem: (entry: Entry) => [Value, Value];

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    const { keyEncoding, valueEncoding = 'utf8' } = options;
    this.toItem = ([key, value]) => [keyInFormat(fromStoredKey(key), keyEncoding), valueInFormat(value, valueEncoding)];
  }

  _next(): Promise<[Value, Value] | undefined> {
    const entry = this.cursor.next();
    return Promise.resolve(entry === undefined ? undefined : this.toItem(entry));
  }

  _nextv(size: number): Promise<Array<[Value, Value]>> {
    return Promise.resolve(this.cursor.take(size, this.toItem));
  }

  _all(): Promise<Array<[Value, Value]>> {
    return Promise.resolve(this.cursor.take(this.limit - this.count, this.toItem));
  }

  _seek(target: Key): void {
    this.cursor.seek(target);
  }

  _close(): Promise<void> {
    this.cursor.close();
    return Promise.resolve();
  }
}

/** `db.keys()`: keys only. */
export class SiltKeyIterator<TDatabase> extends AbstractKeyIterator<TDatabase, Key> {
  private readonly cursor: RangeCursor;
  private readonly toItem: (entry: Entry) => Value;

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    const { keyEncoding } = options;
    this.toItem = ([key]) => keyInFormat(fromStoredKey(key), keyEncoding);
  }

  _next(): Promise<Value | undefined> {
    const entry = this.cursor.next();
    return Promise.resolve(entry === undefined ? undefined : this.toItem(entry));
  }

  _nextv(size: number): Promise<Value[]> {
    return Promise.resolve(this.cursor.take(size, this.toItem));
  }

  _all(): Promise<Value[]> {
    return Promise.resolve(this.cursor.take(this.limit - this.count, this.toItem));
  }

  _seek(target: Key): void {
    this.cursor.seek(target);
  }

  _close(): Promise<void> {
    this.cursor.close();
    return Promise.resolve();
  }
}

/** `db.values()`: values only. */
export class SiltValueIterator<TDatabase> extends AbstractValueIterator<TDatabase, Key, Value> {
  private readonly cursor: RangeCursor;
  private readonly toItem: (entry: Entry) => Value;

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    const { valueEncoding = 'utf8' } = options;
    this.toItem = ([, value]) => valueInFormat(value, valueEncoding);
  }

  _next(): Promise<Value | undefined> {
    const entry = this.cursor.next();
    return Promise.resolve(entry === undefined ? undefined : this.toItem(entry));
  }

  _nextv(size: number): Promise<Value[]> {
    return Promise.resolve(this.cursor.take(size, this.toItem));
  }

  _all(): Promise<Value[]> {
    return Promise.resolve(this.cursor.take(this.limit - this.count, this.toItem));
  }

  _seek(target: Key): void {
    this.cursor.seek(target);
  }

  _close(): Promise<void> {
    this.cursor.close();
    return Promise.resolve();
  }
}
