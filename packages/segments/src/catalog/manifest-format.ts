import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CorruptionError, IoError } from '@silt/fs';
import { errnoOf } from '@silt/fs/internal';
import { ManifestNotFoundError, ManifestVersionError } from './manifest-errors.js';
import { MANIFEST_APPLICATION_ID, MANIFEST_FORMAT_VERSION, MANIFEST_SCHEMA_SQL } from './manifest-schema.js';
import { configureConnection, guarded } from './manifest-sqlite.js';
import type { Connection } from './manifest-sqlite.js';
import type { ManifestRole } from './manifest-role.js';

/**
 * Steps that bring a manifest from format version `key` to `key + 1`, run
 * by a writer inside the opening transaction. Version 1 is the first
 * format, so there are none yet; the next format change adds one here.
 */
const MIGRATIONS: ReadonlyMap<number, (connection: Connection) => void> = new Map();

/** Opens, configures and format-checks a manifest connection; creates the manifest for a writer. */
export function openManifestConnection(path: string, role: ManifestRole, busyTimeoutMs: number): Connection {
  const connection = connect(path, role);
  try {
    guarded(path, 'configure manifest', () => configureConnection(connection, busyTimeoutMs, role === 'writer'));
    if (role === 'writer') enableWal(connection, path);
    guarded(path, 'check manifest format', () =>
      role === 'writer' ? initialiseOrCheck(connection, path) : checkAsReader(connection, path),
    );
    return connection;
  } catch (error) {
    connection.close();
    throw error;
  }
}

function connect(path: string, role: ManifestRole): Connection {
  try {
    // A reader never creates the file: a missing manifest is an error, not an empty index.
    return new Database(path, { fileMustExist: role === 'reader' });
  } catch (error) {
    if (role === 'reader' && errnoOf(error) === 'SQLITE_CANTOPEN' && !existsSync(path)) {
      throw new ManifestNotFoundError(path, 'the file does not exist (a writer creates it)');
    }
    throw new IoError('open manifest', path, error);
  }
}

/** WAL is a property of the file, so setting it once makes every later connection use it. */
function enableWal(connection: Connection, path: string): void {
  const mode = guarded(path, 'enable WAL journal', () => connection.pragma('journal_mode = WAL', { simple: true }));
  if (mode !== 'wal') {
    throw new IoError('enable WAL journal', path, new Error(`SQLite kept journal mode ${String(mode)}`));
  }
}

interface Header {
  readonly applicationId: number;
  readonly version: number;
  readonly isEmpty: boolean;
}

function readHeader(connection: Connection): Header {
  return {
    applicationId: Number(connection.pragma('application_id', { simple: true })),
    version: Number(connection.pragma('user_version', { simple: true })),
    isEmpty: connection.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() === 0,
  };
}

/** In one IMMEDIATE transaction, so two writers racing to create the file cannot both do it. */
function initialiseOrCheck(connection: Connection, path: string): void {
  connection
    .transaction(() => {
      const header = readHeader(connection);
      if (header.isEmpty && header.applicationId === 0 && header.version === 0) {
        createSchema(connection);
        return;
      }
      checkIdentity(header, path);
      migrate(connection, path, header.version);
    })
    .immediate();
}

function checkAsReader(connection: Connection, path: string): void {
  const header = connection.transaction(() => readHeader(connection)).deferred();
  if (header.isEmpty && header.applicationId === 0 && header.version === 0) {
    throw new ManifestNotFoundError(path, 'the file is empty (its writer has not initialised it yet)');
  }
  checkIdentity(header, path);
  if (header.version < MANIFEST_FORMAT_VERSION) {
    throw new ManifestVersionError(
      path,
      header.version,
      MANIFEST_FORMAT_VERSION,
      'open the index with a writer of this version first, which migrates it',
    );
  }
}

function checkIdentity(header: Header, path: string): void {
  if (header.applicationId !== MANIFEST_APPLICATION_ID) {
    throw new CorruptionError(
      path,
      undefined,
      `not a silt manifest (SQLite application_id is 0x${header.applicationId.toString(16)}, expected 0x${MANIFEST_APPLICATION_ID.toString(16)})`,
    );
  }
  if (header.version > MANIFEST_FORMAT_VERSION) {
    throw new ManifestVersionError(path, header.version, MANIFEST_FORMAT_VERSION, 'upgrade @silt/segments to open it');
  }
}

function migrate(connection: Connection, path: string, fromVersion: number): void {
  for (let version = fromVersion; version < MANIFEST_FORMAT_VERSION; version += 1) {
    const step = MIGRATIONS.get(version);
    if (step === undefined) {
      throw new ManifestVersionError(
        path,
        fromVersion,
        MANIFEST_FORMAT_VERSION,
        `no migration from version ${version} exists; rebuild the index`,
      );
    }
    step(connection);
    connection.pragma(`user_version = ${version + 1}`);
  }
}

function createSchema(connection: Connection): void {
  connection.exec(MANIFEST_SCHEMA_SQL);
  const now = Date.now();
  connection.prepare('INSERT INTO manifest_state (singleton, generation, wal_covered_sequence, next_segment_id) VALUES (1, 0, 0, 1)').run();
  connection.prepare('INSERT INTO generations (generation, wal_covered_sequence, committed_at) VALUES (0, 0, ?)').run(now);
  connection.pragma(`application_id = ${MANIFEST_APPLICATION_ID}`);
  connection.pragma(`user_version = ${MANIFEST_FORMAT_VERSION}`);
}
