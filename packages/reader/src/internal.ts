// `@silt/reader/internal`: the read path the writer (`Index` of `silt`) shares
// with `ReadOnlyIndex`. Not public API, and no semver promise (README,
// "Internal entry point").
export type { EntrySource, Lookup, SourceEntry } from './entry-source.js';
export { mergeSources } from './merged-iterator.js';
export { MergedView, type FuzzyMatch } from './merged-view.js';
export { toIndexScanRange, toIndexNearOptions, toFuzzyOptions, type ResolvedFuzzyOptions } from './read-options.js';
export { SortedEditDistance } from './edit-distance.js';
export { SegmentStack, type SegmentStackOptions } from './segment-stack.js';
export { KeyValueReads } from './key-value-reads.js';
export { RetiredReaders } from './retired-readers.js';
export { segmentAccessOptionsShape } from './read-only-index-options.js';
export { recordOwnWrites, subscribeToLog } from './read-only-index.js';
export { TailTable, TAIL_ENTRY_OVERHEAD_BYTES } from './tail-table.js';
export { firstIdAfter, mergeSortedIds } from './sorted-ids.js';
export { valueTranscoder, type ValueTranscoder } from './value-encoding.js';
export { asyncEntries } from './async-entries.js';
