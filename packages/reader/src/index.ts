export type { EntrySource, Lookup, SourceEntry, SourceRange } from './entry-source.js';
export { compareBytes, bytesEqual, startsWith, commonPrefixLength, prefixSuccessor } from './key-bytes.js';
export { boundsOf, isWithin, isAboveLower, isBelowUpper, type KeyBounds } from './key-range.js';
export { mergeSources } from './merged-iterator.js';
export { MergedView, type ByteRange, type NearOptions, type FuzzyOptions, type FuzzyMatch } from './merged-view.js';
export { SortedEditDistance } from './edit-distance.js';
export {
  encodeKey,
  encodeBound,
  encodeValue,
  decodeKey,
  decodeValue,
  describeType,
  MAX_KEY_BYTES,
  type Key,
  type Value,
  type KeyEncoding,
  type EncodedValue,
} from './key-codec.js';
export { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
