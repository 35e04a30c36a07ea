export { mmapSupport, type MmapSupport } from './addon.js';
export { mapFileReadOnly, MmapUnavailableError } from './map-file.js';
export { positionedRead, type PositionedRead } from './read-at.js';
