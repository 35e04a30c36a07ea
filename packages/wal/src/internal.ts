// `@silt/wal/internal`: what silt's own packages need of the log beyond its
// public API (the repair's salvage, the verify tool's read-only check, how a
// key or value is laid out in a record, for a client's own writes; the entries
// of an append's own record, which the writer's memtable holds). Not
// public API, and no semver promise (README, "Internal entry point").
export { scanLogFile, resealedRecord } from './log-salvage.js';
export type { IntactLogRecord, LogDamage, LogFileScan } from './log-salvage.js';
export { listLog, checkLog, type ListedLogFile, type LogFileCheck } from './log-check.js';
export { encodeAcknowledgedMarker } from './acknowledged-marker.js';
export { byteLengthOf, encodeRecord, writeData, visitEncodedRecord } from './record-format.js';
