import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import { checkWellFormed } from './key-bytes.js';

/** Strings rich in surrogates: lone highs and lows, pairs, reversed pairs, around other characters. */
const surrogateText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(fc.constantFrom('a', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', '€', '\uffff'), { maxLength: 12 })
    .map((units) => units.join('')),
);

function messageOf(text: string, what = 'a key'): string {
  try {
    checkWellFormed(text, what);
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.message;
  }
  return '';
}

test('a string is refused exactly when its UTF-8 would not read back as the same string', () => {
  fc.assert(
    fc.property(surrogateText, (text) => {
      const roundTrips = Buffer.from(text, 'utf8').toString('utf8') === text;
      assert.equal(messageOf(text) === '', roundTrips, JSON.stringify(text));
    }),
  );
});

test('the message names the string, the lone surrogate (escaped) and its UTF-16 index', () => {
  assert.equal(messageOf('k\uD800'), 'a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 1');
  assert.equal(messageOf('k\uDBFF', 'a value'), 'a value must be well-formed UTF-16: it has a lone surrogate \\uDBFF at index 1');
  assert.equal(messageOf('\uDC00k'), 'a key must be well-formed UTF-16: it has a lone surrogate \\uDC00 at index 0');
  assert.equal(
    messageOf('\uD800\uD800\uDC00'),
    'a key must be well-formed UTF-16: it has a lone surrogate \\uD800 at index 0',
    'a high half followed by a pair',
  );
  assert.equal(
    messageOf('\uDC00\uD800'),
    'a key must be well-formed UTF-16: it has a lone surrogate \\uDC00 at index 0',
    'a pair in the wrong order',
  );
  assert.equal(
    messageOf('😀x\uDFFF', "range option 'gte'"),
    "range option 'gte' must be well-formed UTF-16: it has a lone surrogate \\uDFFF at index 3",
  );
  assert.doesNotMatch(messageOf('k\uD800'), /[\uD800-\uDFFF]/, 'the message itself is well-formed');
});

test('well-formed strings pass: empty, ASCII, BMP and astral characters as surrogate pairs', () => {
  for (const text of ['', 'key', 'é€\uFFFD\uFFFF', '😀', 'a\uD83D\uDE00b', '\uDBFF\uDFFF'])
    assert.equal(messageOf(text), '', JSON.stringify(text));
});
