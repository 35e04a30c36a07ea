export type { FileHandle, FileStat, FileSystem, OpenMode } from './file-system.js';
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js';
export { fileMappingSupport, type FileMappingSupport } from './file-mapping.js';
export { writeFileDurably, replaceFileAtomically, removeFileDurably, makeDirectoryDurably, isTemporaryName } from './durable.js';
export {
  MANIFEST_FILE,
  MANIFEST_JOURNAL_FILE,
  MANIFEST_SHARED_MEMORY_FILE,
  MANIFEST_FILES,
  WRITER_LOCK_FILE,
  WRITER_PID_FILE,
  WRITER_SOCKET_FILE,
  WAL_DIRECTORY,
  LOG_ACKNOWLEDGED_FILE,
  WRITER_BOOKKEEPING_FILES,
  SEGMENTS_DIRECTORY,
  LOST_AND_FOUND_DIRECTORY,
  RECOVERED_LOG_DIRECTORY,
  NEW_MANIFEST_FILE,
  logFileName,
  sequenceOfLogFile,
  droppedTailName,
  segmentFileName,
  segmentBuildFileName,
  segmentIdOfFileName,
  segmentIdOfBuildName,
  repairFolderName,
  setAsideManifestName,
  parseFileName,
  type IndexFileKind,
  type ParsedFileName,
} from './file-names.js';
export { CrashSimFileSystem } from './crash-sim-file-system.js';
export type { CrashFate, CrashReport, CrashSimOptions } from './crash-sim-file-system.js';
export { FAULT_OPERATIONS, FaultInjectingFileSystem, InjectedFaultError } from './fault-injecting-file-system.js';
export type { FaultOperation, FaultRule, CallObserver } from './fault-injecting-file-system.js';
export { systemClock, ManualClock, type Clock, type CancelTimer } from './clock.js';
export { SiltError, ValidationError, CorruptionError, ClosedError, IoError, WriterFailedError } from './errors.js';
