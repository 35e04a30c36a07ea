export type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js';
export {
  writeFileDurably,
  replaceFileAtomically,
  removeFileDurably,
  makeDirectoryDurably,
  isTemporaryName,
} from './durable.js';
export { CrashSimFileSystem } from './crash-sim-file-system.js';
export type { CrashFate, CrashReport, CrashSimOptions } from './crash-sim-file-system.js';
export { FaultInjectingFileSystem, InjectedFaultError } from './fault-injecting-file-system.js';
export type { FaultOperation, FaultRule, CallObserver } from './fault-injecting-file-system.js';
export { systemClock, ManualClock, type Clock, type CancelTimer } from './clock.js';
export {
  SiltError,
  ValidationError,
  CorruptionError,
  ClosedError,
  IoError,
  WriterFailedError,
} from './errors.js';
