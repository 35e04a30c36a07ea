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

/** Up to `count` mapped entries from the cursor; fewer at its end. */
function take<T>(cursor: RangeCursor, count: number, map: (entry: Entry) => T): T[] {
  const items: T[] = [];
  for (let entry = count > 0 ? cursor.next() : undefined; entry !== undefined; entry = items.length < count ? cursor.next() : undefined) {
    items.push(map(entry));
  }
  return items;
}

/** What every iterator kind does with its cursor; only what an item is differs. */
interface CursorIterator<T> {
  readonly cursor: RangeCursor;
  readonly limit: number;
  readonly count: number;
  item(entry: Entry): T;
}

const cursorMethods = {
  next<T>(iterator: CursorIterator<T>): Promise<T | undefined> {
    const entry = iterator.cursor.next();
    return Promise.resolve(entry === undefined ? undefined : iterator.item(entry));
  },
  nextv<T>(iterator: CursorIterator<T>, size: number): Promise<T[]> {
    return Promise.resolve(take(iterator.cursor, size, (entry) => iterator.item(entry)));
  },
  /** abstract-level leaves the limit to `_all`: take what is left of it. */
  all<T>(iterator: CursorIterator<T>): Promise<T[]> {
    return Promise.resolve(take(iterator.cursor, iterator.limit - iterator.count, (entry) => iterator.item(entry)));
  },
};

function formatsOf(options: PrivateIteratorOptions): { keyFormat: NativeFormat; valueFormat: NativeFormat } {
  return { keyFormat: options.keyEncoding, valueFormat: options.valueEncoding ?? 'utf8' };
}

type Options = AbstractIteratorOptions<Key, Value>;

/** `db.iterator()`: [key, value] entries. */
export class SiltIterator<TDatabase> extends AbstractIterator<TDatabase, Key, Value> implements CursorIterator<[Value, Value]> {
  readonly cursor: RangeCursor;
  private readonly formats: { keyFormat: NativeFormat; valueFormat: NativeFormat };

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    this.formats = formatsOf(options);
  }

  item([key, value]: Entry): [Value, Value] {
    return [keyInFormat(fromStoredKey(key), this.formats.keyFormat), valueInFormat(value, this.formats.valueFormat)];
  }

  _next(): Promise<[Value, Value] | undefined> {
    return cursorMethods.next(this);
  }

  _nextv(size: number): Promise<Array<[Value, Value]>> {
    return cursorMethods.nextv(this, size);
  }

  _all(): Promise<Array<[Value, Value]>> {
    return cursorMethods.all(this);
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
export class SiltKeyIterator<TDatabase> extends AbstractKeyIterator<TDatabase, Key> implements CursorIterator<Value> {
  readonly cursor: RangeCursor;
  private readonly keyFormat: NativeFormat;

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    this.keyFormat = options.keyEncoding;
  }

  item([key]: Entry): Value {
    return keyInFormat(fromStoredKey(key), this.keyFormat);
  }

  _next(): Promise<Value | undefined> {
    return cursorMethods.next(this);
  }

  _nextv(size: number): Promise<Value[]> {
    return cursorMethods.nextv(this, size);
  }

  _all(): Promise<Value[]> {
    return cursorMethods.all(this);
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
export class SiltValueIterator<TDatabase> extends AbstractValueIterator<TDatabase, Key, Value> implements CursorIterator<Value> {
  readonly cursor: RangeCursor;
  private readonly valueFormat: NativeFormat;

  constructor(db: TDatabase, source: RangeSource, options: PrivateIteratorOptions) {
    super(db, options as Options);
    this.cursor = new RangeCursor(source, options);
    this.valueFormat = formatsOf(options).valueFormat;
  }

  item([, value]: Entry): Value {
    return valueInFormat(value, this.valueFormat);
  }

  _next(): Promise<Value | undefined> {
    return cursorMethods.next(this);
  }

  _nextv(size: number): Promise<Value[]> {
    return cursorMethods.nextv(this, size);
  }

  _all(): Promise<Value[]> {
    return cursorMethods.all(this);
  }

  _seek(target: Key): void {
    this.cursor.seek(target);
  }

  _close(): Promise<void> {
    this.cursor.close();
    return Promise.resolve();
  }
}
