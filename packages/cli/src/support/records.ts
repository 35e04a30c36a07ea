import { validatePut, ValidationError, type Key, type Value } from 'silt';

/**
 * Keys and values as text, for output and for JSON Lines import and export.
 * Keys are bytes and values may be; text shows them as UTF-8 when they are
 * valid UTF-8 and as base64 otherwise, and the JSON record says which, so
 * `silt export | silt import` copies every key and value exactly, with
 * values keeping their type (string or bytes).
 */

/** One line of `silt export` and `silt scan --json`, and what `silt import` reads. */
export interface KeyValueRecord {
  readonly key: string;
  readonly value?: string;
  /** Present when the key's bytes are not valid UTF-8. */
  readonly keyEncoding?: 'base64';
  /** Present when the value was stored as bytes (a Uint8Array). */
  readonly valueEncoding?: 'base64';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The key as a string when its bytes are valid UTF-8; undefined otherwise. */
function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A key read with `keyEncoding: 'binary'` (or as a string), as a record field. */
export function keyField(key: Key): Pick<KeyValueRecord, 'key' | 'keyEncoding'> {
  if (typeof key === 'string') return { key };
  const text = utf8OrUndefined(key);
  return text === undefined ? { key: base64(key), keyEncoding: 'base64' } : { key: text };
}

export function valueField(value: Value): Pick<KeyValueRecord, 'value' | 'valueEncoding'> {
  return typeof value === 'string' ? { value } : { value: base64(value), valueEncoding: 'base64' };
}

export function toRecord(key: Key, value: Value): KeyValueRecord {
  return { ...keyField(key), ...valueField(value) };
}

/** A key for plain output: its text, or `base64:` and its bytes in base64 when they are not UTF-8. */
export function plainKey(key: Key): string {
  const { key: text, keyEncoding } = keyField(key);
  return keyEncoding === undefined ? text : `base64:${text}`;
}

/** A value for plain output: a string as it is, bytes as `base64:` and base64 (`--json` tells them apart exactly). */
export function plainValue(value: Value): string {
  return typeof value === 'string' ? value : `base64:${base64(value)}`;
}

/** A record field that failed: the message names the line's problem for the person fixing the file. */
export class RecordError extends Error {}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string, field: string): Uint8Array {
  if (!BASE64.test(text)) throw new RecordError(`"${field}" is marked base64 but is not valid base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function encodingOf(record: Record<string, unknown>, field: string): 'utf8' | 'base64' {
  const encoding = record[field];
  if (encoding === undefined || encoding === 'utf8') return 'utf8';
  if (encoding === 'base64') return 'base64';
  throw new RecordError(`"${field}" must be "utf8" or "base64", got ${JSON.stringify(encoding)}`);
}

/**
 * A pair checked by the index's own checks, so that an import that passed
 * every line writes every line, with the index's words for what is wrong.
 */
export function checkedPair(key: Key, value: Value, maxValueBytes: number): readonly [Key, Value] {
  asRecordError(() => validatePut(key, value, maxValueBytes));
  return [key, value];
}

function asRecordError(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (error instanceof ValidationError) throw new RecordError(error.message);
    throw error;
  }
}

/**
 * The line `silt export` writes for a text key and value, with nothing in
 * either string that JSON would escape (no quote, backslash or control
 * character): its strings are the characters between the quotes, so it is
 * read without JSON.parse, about 3× faster. Any other line goes to JSON.parse.
 */
// eslint-disable-next-line no-control-regex
const PLAIN_RECORD = /^\{"key":"([^"\\\u0000-\u001f]*)","value":"([^"\\\u0000-\u001f]*)"\}$/;

/**
 * A JSON Lines record: `{"key": "...", "value": ...}`, with optional
 * `keyEncoding`/`valueEncoding` "base64" (as `silt export` writes them). A
 * value that is not a string (a number, object, array, boolean or null) is
 * stored as its JSON text. Other fields are ignored.
 */
export function parseJsonRecord(line: string, maxValueBytes: number): readonly [Key, Value] {
  const plain = PLAIN_RECORD.exec(line);
  if (plain !== null) return checkedPair(plain[1]!, plain[2]!, maxValueBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new RecordError(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RecordError('expected a JSON object like {"key": "k", "value": "v"}');
  }
  const record = parsed as Record<string, unknown>;
  if (!('key' in record)) throw new RecordError('the object has no "key" field');
  if (typeof record.key !== 'string') throw new RecordError(`"key" must be a string, got ${JSON.stringify(record.key)}`);
  if (!('value' in record)) throw new RecordError('the object has no "value" field');
  const key = encodingOf(record, 'keyEncoding') === 'base64' ? decodeBase64(record.key, 'key') : record.key;
  const valueEncoding = encodingOf(record, 'valueEncoding');
  let value: Value;
  if (typeof record.value === 'string') value = valueEncoding === 'base64' ? decodeBase64(record.value, 'value') : record.value;
  else if (valueEncoding === 'base64') throw new RecordError('"value" is marked base64 but is not a string');
  else value = JSON.stringify(record.value);
  return checkedPair(key, value, maxValueBytes);
}

/** A TSV line: the key, a tab, and the value (the rest of the line, tabs included). */
export function parseTsvRecord(line: string, maxValueBytes: number): readonly [Key, Value] {
  const tab = line.indexOf('\t');
  if (tab < 0) throw new RecordError('no tab between key and value');
  return checkedPair(line.slice(0, tab), line.slice(tab + 1), maxValueBytes);
}
