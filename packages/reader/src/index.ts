export type { EntrySource, Lookup, SourceEntry, SourceRange } from './entry-source.js';
export { compareKeys, sharedPrefixLength } from './key-bytes.js';
export { mergeSources } from './merged-iterator.js';
export { MergedView, type ByteRange, type NearOptions, type FuzzyOptions, type FuzzyMatch } from './merged-view.js';
export { SortedEditDistance } from './edit-distance.js';
export { encodeKey, encodeBound, encodeValue, decodeKey, type EncodedValue } from './key-codec.js';
export type { Key, Value, KeyEncoding } from '@silt/segments';
export { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
