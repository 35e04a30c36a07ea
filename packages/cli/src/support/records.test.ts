import { test } from 'node:test';
import { keyField, parseJsonRecord, parseTsvRecord, RecordError, toRecord } from './records.js';
import { wholeNumber } from './option-parsers.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';

const LIMIT = 1024;

test('a JSON record names what is wrong with it', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"key":"a"', /^not valid JSON/],
    ['["a","b"]', /expected a JSON object/],
    ['{"value":"v"}', /no "key" field/],
    ['{"key":1,"value":"v"}', /"key" must be a string, got 1/],
    ['{"key":"k"}', /no "value" field/],
    ['{"key":"","value":"v"}', /a key must not be empty/],
    ['{"key":"k","value":"!!","valueEncoding":"base64"}', /"value" is marked base64 but is not valid base64/],
    ['{"key":"k","value":1,"valueEncoding":"base64"}', /"value" is marked base64 but is not a string/],
    ['{"key":"k","value":"v","keyEncoding":"hex"}', /"keyEncoding" must be "utf8" or "base64", got "hex"/],
    [`{"key":"k","value":"${'x'.repeat(LIMIT + 1)}"}`, /a value is 1025 bytes; the limit is 1024 bytes/],
    [`{"key":"${'k'.repeat(65_536)}","value":"v"}`, /a key is 65536 bytes; the limit is 65535 bytes/],
  ];
  for (const [line, message] of cases)
    assert.throws(
      () => parseJsonRecord(line, LIMIT),
      (error: unknown) => error instanceof RecordError && message.test(error.message),
      line.slice(0, 60),
    );
  assert.throws(() => parseTsvRecord('no tab here', LIMIT), /no tab between key and value/);
  assert.throws(() => parseTsvRecord('\tvalue', LIMIT), /a key must not be empty/);
});

test('every key and value survives the trip through an export record and back', () => {
  const keys = fc.oneof(fc.string({ minLength: 1 }), fc.uint8Array({ minLength: 1, maxLength: 40 }));
  const values = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 }));
  fc.assert(
    fc.property(keys, values, (key, value) => {
      const [parsedKey, parsedValue] = parseJsonRecord(JSON.stringify(toRecord(key, value)), LIMIT);
      const keyBytes = (k: string | Uint8Array): Uint8Array =>
        typeof k === 'string' ? new Uint8Array(Buffer.from(k, 'utf8')) : new Uint8Array(k);
      assert.deepEqual(keyBytes(parsedKey), keyBytes(key));
      if (typeof value === 'string') assert.equal(parsedValue, value);
      else assert.deepEqual(parsedValue, new Uint8Array(value));
    }),
  );
});

test('keys are text when they are valid UTF-8 (a leading byte order mark kept), base64 otherwise', () => {
  assert.deepEqual(keyField(new Uint8Array(Buffer.from('\uFEFFkey', 'utf8'))), { key: '\uFEFFkey' });
  assert.deepEqual(keyField(new Uint8Array([0xc3])), { key: 'ww==', keyEncoding: 'base64' });
});

test('whole-number options take separators and exponents, and refuse the rest', () => {
  const parse = wholeNumber(1, 1_000_000);
  assert.equal(parse('1_000'), 1000);
  assert.equal(parse('1,000,000'), 1_000_000);
  assert.equal(parse('1e3'), 1000);
  for (const bad of ['', ' ', '0', '1.5', 'ten', '2000000', '0x10'])
    assert.throws(() => parse(bad), /expected a whole number from 1 to 1000000/, bad);
});

test('a JSON line read by the plain-strings shortcut gives what JSON.parse gives, and every other line goes to JSON.parse', () => {
  const viaJsonParse = (line: string): readonly [unknown, unknown] | string => {
    try {
      const record = JSON.parse(line) as { key?: unknown; value?: unknown };
      return [record.key, typeof record.value === 'string' ? record.value : JSON.stringify(record.value)];
    } catch {
      return 'malformed';
    }
  };
  const viaParser = (line: string): readonly [unknown, unknown] | string => {
    try {
      return parseJsonRecord(line, LIMIT * 64);
    } catch (error) {
      if (error instanceof RecordError) return 'malformed';
      throw error;
    }
  };
  const wellFormed = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
  fc.assert(
    fc.property(wellFormed, fc.string({ unit: 'grapheme', maxLength: 60 }), (key, value) => {
      const line = JSON.stringify({ key, value });
      assert.deepEqual(viaParser(line), [key, value]);
    }),
  );
  // Lines near the shortcut's shape: raw control characters, escapes, quotes, spacing, other fields, non-string values.
  const near = fc
    .array(fc.constantFrom('{"key":"', '","value":"', '"}', '\\"', '\\\\', '\\n', '\t', '\u0001', ' ', 'a', 'é', '"', '1', '}', ',"x":2'), {
      maxLength: 12,
    })
    .map((parts) => parts.join(''));
  fc.assert(
    fc.property(near, (line) => {
      const expected = viaJsonParse(line);
      const got = viaParser(line);
      if (got === 'malformed') return;
      assert.deepEqual(got, expected, line);
    }),
  );
  assert.equal(viaParser('{"key":"a","value":"tab\there"}'), 'malformed', 'a raw control character is not JSON');
  assert.deepEqual(viaParser('{"key":"a","value":"q\\"uote"}'), ['a', 'q"uote']);
});
