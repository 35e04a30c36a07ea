import { IoError, SiltError } from './errors.js';

/**
 * Runs one file-system call and turns an operating-system error into an
 * IoError naming the action and the path, so the caller sees "fdatasync
 * wal/0000000000000001.log failed: EIO" rather than a bare errno.
 */
export function attempt<T>(action: string, path: string, step: () => Promise<T>): Promise<T>;
export function attempt<T>(action: string, path: string, step: () => T): T;
export function attempt<T>(action: string, path: string, step: () => T | Promise<T>): T | Promise<T> {
  let result: T | Promise<T>;
  try {
    result = step();
  } catch (error) {
    throw asIoError(action, path, error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw asIoError(action, path, error);
    });
  }
  return result;
}

export function asIoError(action: string, path: string, error: unknown): SiltError {
  return error instanceof SiltError ? error : new IoError(action, path, error);
}
