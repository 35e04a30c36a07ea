export { tempDir } from './temp-dir.js';
export { snapshotDirectory } from './directory-snapshot.js';
export { nextEvent, turnsUntil, whenCondition } from './events.js';
