/**
 * The exit codes of `silt`, documented in CLI.md. Scripts branch on them, so
 * they never change meaning.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The operation failed (I/O, another writer holds the index, malformed import input) or `verify` found damage. */
  failure: 1,
  /** The command line is wrong: unknown command or option, a bad value, a directory that is not an index. Nothing was done. */
  usage: 2,
  /** `get`: the key is not in the index. */
  notFound: 3,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

