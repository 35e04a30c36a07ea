/**
 * A short description of any value for an error message: its type and, for
 * small ones, the value. Keys are validated, encoded and described by
 * @silt/segments (`key-bytes.ts`); the log cannot import it (@silt/wal and
 * @silt/segments do not know each other), and it checks only the shape of an
 * entry, so it keeps this one helper of its own.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `${typeof value} ${String(value)}`;
}
