export { tempDir } from './temp-dir.js';
export { snapshotDirectory } from './directory-snapshot.js';
export { nextEvent, whenCondition } from './events.js';
