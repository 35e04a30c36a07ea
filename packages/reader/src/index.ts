export type { EntrySource, KeyBounds, Lookup, SourceEntry } from './entry-source.js';
export { compareBytes, bytesEqual, startsWith, commonPrefixLength, prefixSuccessor } from './key-bytes.js';
export { boundsOf, isWithin, type ByteRange } from './key-range.js';
export { mergeSources } from './merged-iterator.js';
export { MergedView, type NearOptions, type FuzzyOptions, type FuzzyMatch } from './merged-view.js';
export { SortedEditDistance } from './edit-distance.js';
