// `@silt/merger/internal`: what silt's other packages (and this package's
// tools) use beyond the public API. Not public API, and no semver promise
// (README, "Internal entry point").
export { defaultMergeThreads } from './segment-worker-pool.js';
export { checkMergeRequest } from './segment-merge.js';
export { segmentCountTarget } from './tiered-merge-policy.js';
