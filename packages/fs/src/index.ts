export type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js';
export {
  writeFileDurably,
  replaceFileAtomically,
  removeFileDurably,
  makeDirectoryDurably,
  temporaryPathFor,
  isTemporaryName,
  TEMP_SUFFIX,
} from './durable.js';
export { CrashSimFileSystem } from './crash-sim-file-system.js';
export type { CrashFate, CrashReport, CrashSimOptions } from './crash-sim-file-system.js';
export { FaultInjectingFileSystem, InjectedFaultError } from './fault-injecting-file-system.js';
export type { FaultOperation, FaultRule, CallObserver } from './fault-injecting-file-system.js';
export { systemClock, ManualClock, type Clock, type CancelTimer } from './clock.js';
export { SeededRandom } from './seeded-random.js';
export {
  SiltError,
  ValidationError,
  CorruptionError,
  ClosedError,
  IoError,
  WriterFailedError,
  errnoOf,
  isNotFound,
} from './errors.js';
export { attempt, asIoError } from './io-step.js';
