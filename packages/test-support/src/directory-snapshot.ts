import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file below `directory` with a hash of its bytes, by relative path:
 * two snapshots are equal only if nothing was created, removed or changed.
 * SQLite's `-shm` is left out: opening a database may rebuild it, which
 * changes no data.
 */
export function snapshotDirectory(directory: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(directory, relative)).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stat = statSync(join(directory, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isSocket()) files[path] = 'socket';
      else if (!path.endsWith('-shm'))
        files[path] = createHash('sha256')
          .update(readFileSync(join(directory, path)))
          .digest('hex')
          .slice(0, 16);
    }
  };
  walk('');
  return files;
}
