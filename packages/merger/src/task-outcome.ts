import { ClosedError, CorruptionError, IoError, ValidationError, WriterFailedError } from '@silt/fs';
import { KeyOrderError, UnsupportedVersionError } from '@silt/segments';
import { MergeAbortedError } from './segment-merge.js';

/**
 * How a task's result or error crosses from a worker thread back to the
 * pool. Structured cloning keeps an Error's message but not its class, so
 * a CorruptionError thrown in a worker would arrive as a plain Error without
 * `code` or `file`. A task therefore returns its error as data, and the
 * pool rebuilds it as the class it was.
 */
export type TaskOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SerializedError };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The error's own enumerable fields (`code`, `file`, `offset`, `errno`, ...). */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly cause: SerializedError | undefined;
}

/** Error classes rebuilt by name; any other error comes back as an Error of the same name and message. */
const KNOWN_ERRORS: ReadonlyMap<string, { prototype: Error }> = new Map<string, { prototype: Error }>([
  ['ValidationError', ValidationError],
  ['CorruptionError', CorruptionError],
  ['ClosedError', ClosedError],
  ['IoError', IoError],
  ['WriterFailedError', WriterFailedError],
  ['KeyOrderError', KeyOrderError],
  ['UnsupportedVersionError', UnsupportedVersionError],
  ['MergeAbortedError', MergeAbortedError],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
]);

const MAX_CAUSE_DEPTH = 4;

/** Runs a task in the worker and captures its outcome as cloneable data. */
export async function settle<T>(task: () => Promise<T>): Promise<TaskOutcome<T>> {
  try {
    return { ok: true, value: await task() };
  } catch (error) {
    return { ok: false, error: serializeError(error, 0) };
  }
}

/** The task's value, or its error rebuilt and thrown on this thread. */
export function unwrapOutcome<T>(outcome: TaskOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw reviveError(outcome.error);
}

function serializeError(error: unknown, depth: number): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `a worker task threw a non-error: ${String(error)}`, stack: undefined, fields: {}, cause: undefined };
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (isCloneableField(value)) fields[key] = value;
  const cause = error.cause !== undefined && depth < MAX_CAUSE_DEPTH ? serializeError(error.cause, depth + 1) : undefined;
  return { name: error.name, message: error.message, stack: error.stack, fields, cause };
}

function isCloneableField(value: unknown): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return false;
  return (
    typeof value !== 'object' ||
    value === null ||
    ArrayBuffer.isView(value) ||
    (Array.isArray(value) && value.every((item) => typeof item !== 'object'))
  );
}

function reviveError(serialized: SerializedError): Error {
  const known = KNOWN_ERRORS.get(serialized.name);
  // Built from the prototype, not the constructor: the message is already
  // composed, and constructors take the parts it was composed from.
  const error = Object.create(known?.prototype ?? Error.prototype) as Error;
  const ownProperty = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(error, 'message', ownProperty(serialized.message));
  Object.defineProperty(error, 'stack', ownProperty(serialized.stack ?? `${serialized.name}: ${serialized.message}`));
  if (serialized.cause !== undefined) Object.defineProperty(error, 'cause', ownProperty(reviveError(serialized.cause)));
  Object.assign(error, serialized.fields);
  if (error.name !== serialized.name) Object.defineProperty(error, 'name', ownProperty(serialized.name));
  return error;
}
