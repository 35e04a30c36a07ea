import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Pm2Daemon, Pm2Process } from './pm2-daemon.js';
import { waitFor } from './wait-for.js';
import type { LoadGenerator } from './load-generator.js';

/** The pid in the index's writer.pid (`{"pid":…,"acquiredAt":…}`), or undefined if there is none yet. */
export function writerPid(indexDirectory: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(indexDirectory, 'writer.pid'), 'utf8'));
    const pid = (parsed as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until pm2 lists `instances` processes of app `name`, every one
 * online, none of them with a pid of `replaced` (the processes an event
 * was to replace), and returns them.
 */
export async function fleetOnline(
  daemon: Pm2Daemon,
  name: string,
  instances: number,
  replaced: ReadonlySet<number> = new Set(),
): Promise<Pm2Process[]> {
  let apps: Pm2Process[] = [];
  await waitFor(
    `${instances} instances of ${name} online${replaced.size > 0 ? ', all of them new' : ''}`,
    async () => {
      apps = (await daemon.list()).filter((app) => app.name === name);
      return apps.length === instances && apps.every((app) => app.status === 'online' && app.pid > 0 && !replaced.has(app.pid));
    },
    () => apps.map((app) => `${app.pmId}: pid ${app.pid} ${app.status}`).join(', '),
  );
  return apps;
}

/** Waits until `count` more writes than now were acknowledged: the fleet is under load again, not in a lull. */
export async function moreAcknowledged(load: LoadGenerator, count: number): Promise<void> {
  const target = load.acknowledged.size + count;
  await waitFor(
    `${count} more acknowledged writes`,
    () => load.acknowledged.size >= target,
    () =>
      `${load.acknowledged.size} of ${target}; last failures: ${load
        .failures()
        .slice(-3)
        .map((record) => record.failure)
        .join(', ')}`,
  );
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Where pm2's log stood when an event began. */
export interface LogMark {
  readonly event: string;
  readonly offset: number;
}

/** How the app's processes ended during each event (from its mark to the next): `pm2 reload: code 0 via SIGINT ×4`. */
export function exitsPerEvent(log: string, name: string, marks: readonly LogMark[]): string[] {
  return marks.map((mark, at) => `${mark.event}: ${exitsInLog(log.slice(mark.offset, marks[at + 1]?.offset ?? log.length), name)}`);
}

/** How pm2's log says the app's processes ended: `code 0 via SIGINT ×6`, and so on. */
export function exitsInLog(log: string, name: string): string {
  const exits = new Map<string, number>();
  for (const match of log.matchAll(/App \[([^:\]]+):[^\]]+\] exited with code \[([^\]]*)\] via signal \[([^\]]*)\]/g)) {
    if (match[1] !== name) continue;
    const how = `code ${match[2]} via ${match[3]}`;
    exits.set(how, (exits.get(how) ?? 0) + 1);
  }
  return [...exits].map(([how, count]) => `${how} ×${count}`).join(', ') || 'none';
}
