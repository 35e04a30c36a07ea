import { z } from 'zod';
import {
  indexOptionsSchema,
  readOnlyIndexOptionsSchema,
  ValidationError,
  type IndexOptions,
  type InspectOptions,
  type ReadOnlyIndexOptions,
} from 'silt';

/**
 * The options this adapter adds to abstract-level's own (`keyEncoding`,
 * `valueEncoding`, `createIfMissing`, `errorIfExists`, `passive`, …, which
 * abstract-level checks): `readOnly` opens a `ReadOnlyIndex` instead of the
 * writer, and `silt` is handed to `Index.open` (or `ReadOnlyIndex.open`).
 */
export const siltLevelOptionsSchema = z.object({
  readOnly: z.boolean().default(false),
  silt: z.record(z.string(), z.unknown()).default({}),
});

export interface SiltLevelOwnOptions {
  /** Open a `ReadOnlyIndex` (reads only, beside a writer in another process); writes reject with `LEVEL_READONLY`. Default false. */
  readonly readOnly?: boolean;
  /** Options of `Index.open`, or of `ReadOnlyIndex.open` with `readOnly`; all but `keyEncoding`, which the adapter sets. */
  readonly silt?: Omit<IndexOptions, 'keyEncoding'> | Omit<ReadOnlyIndexOptions, 'keyEncoding'>;
}

export interface ResolvedSiltLevelOptions {
  readonly readOnly: boolean;
  /** What `Index.open`/`ReadOnlyIndex.open` get: the caller's silt options with keys read back as bytes. */
  readonly openOptions: Record<string, unknown>;
  /** The file system the index is opened through, to look at the directory through the same one. */
  readonly fs: InspectOptions['fs'];
}

/** Checks the adapter's options at construction, so a typo fails there and not at open. */
export function resolveSiltLevelOptions(options: unknown): ResolvedSiltLevelOptions {
  const own = siltLevelOptionsSchema.safeParse(options ?? {});
  if (!own.success) throw new ValidationError(`@silt/level options: ${z.prettifyError(own.error)}`);
  const { readOnly, silt } = own.data;
  if (silt.keyEncoding !== undefined) {
    throw new ValidationError(`@silt/level sets silt's keyEncoding itself; use abstract-level's keyEncoding option instead`);
  }
  // Keys always come back as bytes: a key may not be valid UTF-8, and the stored form needs mapping back.
  // A level store is its location's one writer, as classic-level's (LEVEL_LOCKED otherwise), unless `silt.role` says.
  const openOptions = readOnly ? { ...silt, keyEncoding: 'binary' } : { role: 'writer', ...silt, keyEncoding: 'binary' };
  const schema = readOnly ? readOnlyIndexOptionsSchema : indexOptionsSchema;
  const checked = schema.safeParse(openOptions);
  if (!checked.success) throw new ValidationError(`@silt/level silt options: ${z.prettifyError(checked.error)}`);
  return { readOnly, openOptions, fs: checked.data.fs };
}
