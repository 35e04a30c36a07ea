/**
 * How a connection uses the manifest: the one writer creates and commits;
 * readers only read and take leases. Its own file so that the public types
 * never import better-sqlite3's (a consumer need not install its typings).
 */
export type ManifestRole = 'writer' | 'reader';
