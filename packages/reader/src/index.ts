export type { Key, Value, KeyEncoding } from '@silt/segments';
export type { RangeOptions, NearOptions, FuzzyOptions } from './read-options.js';
export {
  ReadOnlyIndex,
  type ReadOnlyIndexEvents,
  type ReadOnlyIndexSeams,
  type ReadOnlyIndexStats,
  type RefreshChange,
  type TailOverflow,
} from './read-only-index.js';
export type { SegmentRecord } from '@silt/segments';
export { readOnlyIndexOptionsSchema, type ReadOnlyIndexOptions } from './read-only-index-options.js';
export { ChangeFeed, type ChangeFeedSource, type ChangeSubscription } from './change-feed.js';
export { changesOptionsSchema, type ChangesOptions } from './change-feed-options.js';
export { ChangesTooOldError, AbortError } from './change-feed-errors.js';
export type { Change, PutChange, DeleteChange } from './record-changes.js';
export { valueEncodingSchema, ValueDecodeError, type ValueCodec, type ValueEncoding } from './value-encoding.js';
export type { KeyOf } from './key-type.js';
