export { SiltLevel, type SiltLevelOptions } from './silt-level.js';
export { siltLevelOptionsSchema, type SiltLevelOwnOptions } from './level-options.js';
export { ReadOnlyLevelError, IndexMissingError, IndexExistsError, LevelLockedError } from './errors.js';
