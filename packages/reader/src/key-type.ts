import type { Key } from '@silt/segments';

/**
 * The type of the keys reads hand back (`range`, `keys`, `near`, `fuzzy`,
 * `changes`) under an options object's type: `Uint8Array` for
 * `keyEncoding: 'binary'`, `string` for `'utf8'` or no `keyEncoding` (the
 * default), and either (`Key`) when the type does not say which.
 */
export type KeyOf<O> = O extends { readonly keyEncoding: 'binary' }
  ? Uint8Array
  : O extends { readonly keyEncoding?: 'utf8' | undefined }
    ? string
    : Key;
