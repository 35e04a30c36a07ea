import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** `/proc/net/unix`'s flag for a socket that listens (`__SO_ACCEPTCON`). */
const LISTENING_FLAG = 0x10000;

/**
 * Which of `pids` hold a listening Unix socket bound to a path ending in
 * `pathEnding` (Linux: `/proc/net/unix` names each socket's inode and the
 * path it was bound to, as given, so relative to the binder's cwd; each
 * process's `/proc/<pid>/fd` names the socket inodes it holds).
 */
export function listeningSocketHolders(pathEnding: string, pids: readonly number[]): number[] {
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [flags, inode, path] = [fields[3], fields[6], fields[7]];
    if (path === undefined || inode === undefined || !path.endsWith(pathEnding)) continue;
    if ((parseInt(flags ?? '0', 16) & LISTENING_FLAG) !== 0) inodes.add(inode);
  }
  return pids.filter((pid) => socketInodesOf(pid).some((inode) => inodes.has(inode)));
}

function socketInodesOf(pid: number): string[] {
  const inodes: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.push(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}
