export { mmapSupport, type MmapSupport } from './addon.js';
export { mapFileReadOnly, MmapUnavailableError } from './map-file.js';
export { positionedRead, type PositionedRead } from './read-at.js';
export { fastCrc32, type Crc32 } from './crc32.js';
export { nativeMergeEntries, MERGE_STATE, MERGE_STATUS, type MergeEntries } from './merge-entries.js';
