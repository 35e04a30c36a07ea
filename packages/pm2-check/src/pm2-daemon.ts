import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const PM2_BIN = createRequire(import.meta.url).resolve('pm2/bin/pm2');
/** One pm2 command: a start with wait_ready, or a reload of four instances, takes seconds; a minute means it is stuck. */
const COMMAND_STUCK_AFTER_MS = 60_000;

/** What `pm2 jlist` tells of one process, the fields these tests read. */
export interface Pm2Process {
  readonly name: string;
  readonly pmId: number;
  /** 0 while the process is not running. */
  readonly pid: number;
  readonly status: string;
  readonly restarts: number;
}

/**
 * A pm2 daemon of the tests' own: its PM2_HOME is a private directory, so
 * it never touches the user's pm2 or another test's. Driven through pm2's
 * own command line from node_modules, as a person would. `kill()` stops
 * it and every app it runs; call it whatever happened.
 */
export class Pm2Daemon {
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly home: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true', PM2_DISABLE_VERSION_CHECK: 'true' };
    // The apps inherit the daemon's environment: they are not node:test children.
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    this.env = env;
  }

  /** Runs `pm2 ...args` and returns what it printed; rejects with its output if it failed. */
  run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [PM2_BIN, ...args],
        { env: { ...this.env, ...env }, timeout: COMMAND_STUCK_AFTER_MS, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`pm2 ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
  }

  async list(): Promise<Pm2Process[]> {
    const output = await this.run(['jlist']);
    return parseJlist(output.slice(output.indexOf('[')));
  }

  /** pm2's own log (starts, stops, exits with their codes and signals). */
  log(): string {
    const file = join(this.home, 'pm2.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** What the apps wrote to stderr (pm2's `<app>-error-<id>.log` files), one entry per non-empty line. */
  appErrors(): string[] {
    const logs = join(this.home, 'logs');
    if (!existsSync(logs)) return [];
    return readdirSync(logs)
      .filter((file) => file.includes('-error'))
      .flatMap((file) =>
        readFileSync(join(logs, file), 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => `${file}: ${line}`),
      );
  }

  /** The daemon's pid while it runs (any pm2 command would start one otherwise). */
  get pid(): number | undefined {
    const file = join(this.home, 'pm2.pid');
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8')) : NaN;
    return pid > 0 && isAlive(pid) ? pid : undefined;
  }

  /** Stops every app and the daemon. If pm2 cannot, SIGKILLs the daemon and the apps it knew of. */
  async kill(): Promise<void> {
    const daemonPid = this.pid;
    if (daemonPid === undefined) return;
    let known: Pm2Process[] = [];
    try {
      known = await this.list();
      await this.run(['kill']);
    } catch {
      for (const pid of [daemonPid, ...known.map((app) => app.pid)]) {
        if (pid > 0) killQuietly(pid);
      }
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function parseJlist(json: string): Pm2Process[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error(`pm2 jlist printed no list: ${json.slice(0, 200)}`);
  return parsed.map((entry: unknown) => {
    const app = entry as { name?: unknown; pm_id?: unknown; pid?: unknown; pm2_env?: { status?: unknown; restart_time?: unknown } };
    return {
      name: String(app.name),
      pmId: Number(app.pm_id),
      pid: Number(app.pid ?? 0),
      status: String(app.pm2_env?.status),
      restarts: Number(app.pm2_env?.restart_time ?? 0),
    };
  });
}
