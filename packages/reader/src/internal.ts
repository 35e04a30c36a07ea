// `@silt/reader/internal`: the read path the writer (`Index` of `silt`) shares
// with `ReadOnlyIndex`. Not public API, and no semver promise (README,
// "Internal entry point").
export type { EntrySource, Lookup, SourceEntry, SourceRange } from './entry-source.js';
export { compareKeys, sharedPrefixLength } from './key-bytes.js';
export { mergeSources } from './merged-iterator.js';
export { MergedView, type ByteRange, type FuzzyOptions as ViewFuzzyOptions, type FuzzyMatch } from './merged-view.js';
export { SortedEditDistance } from './edit-distance.js';
export { encodeKey, encodeBound, decodeKey } from './key-codec.js';
export { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
export { KeyValueReads } from './key-value-reads.js';
export { RetiredReaders } from './retired-readers.js';
