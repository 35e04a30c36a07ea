// `@silt/segments/internal`: the helpers of both halves that silt's other
// packages build on (key bytes, range and option checks, the newest-wins
// merge, the key hash, the zod check). Not public API, and no semver promise
// (README, "Internal entry point").
export { parseWithSchema } from './shared/schema-validation.js';
export { fileSystemSchema } from './file/segment-options.js';
export { compareBytes, commonPrefixLength, describeType, keyToBytes, checkKeyLength, checkWellFormed } from './file/key-bytes.js';
export { checkKey, encodeKey, decodeKey, ownedKey, checkedKeyId, keyIdOfBytes, keyIdOfString, keyBytesOfId } from './file/key-bytes.js';
export { compareKeys, sharedPrefixLength, utf8Boundary, bytesEqual, describeKey } from './file/key-bytes.js';
export { KEY_SCRATCH, encodeKeyToScratch, scratchKeyHash, storedKeyHash } from './file/key-bytes.js';
export { StackKeyFilter } from './file/stack-key-filter.js';
export type { KeyFilter } from './file/key-filter.js';
export { toScanRange, prefixScanRange, FULL_SCAN, limitOption, booleanOption } from './file/range-options.js';
export type { Bound, ScanRange } from './file/range-options.js';
export { nearOptions, INDEX_NEAR_LIMIT } from './file/near.js';
export { IteratorCursor, NewestWinsMerge, type MergeCursor } from './file/newest-wins-merge.js';
export { copyBytes, decodeAscii, decodeUtf8 } from './file/value-codec.js';
export { hashKeyBytes, finishHash, FNV_OFFSET_BASIS, FNV_PRIME } from './file/key-hash.js';
export { newSegmentSchema, manifestChangeSchema } from './catalog/manifest-schema.js';
export { filesNewerThanManifest } from './catalog/index-damaged-error.js';
export { ENTRY_HEADER_BYTES } from './file/format.js';
