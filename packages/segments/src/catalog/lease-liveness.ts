import { errnoOf } from '@silt/fs/internal';

/**
 * Whether a process with this pid exists, asked the only way Node can:
 * `kill(pid, 0)` sends no signal but runs the existence and permission
 * checks. ESRCH means no such process; EPERM means it exists but belongs to
 * another user, so it is alive.
 *
 * Caveats, documented in MANIFEST.md: a dead process's pid can be reused by
 * an unrelated one, which then looks alive (a lease or lock record naming it
 * is kept too long, never dropped too early); a killed child counts as alive
 * until its parent reaps it (a zombie still has its pid); and a pid from
 * another pid namespace (a container sharing the volume) means nothing here.
 */
export function isProcessAlive(pid: number): boolean {
  // kill(0) and kill(-n) address process groups; never send those.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) !== 'ESRCH';
  }
}
