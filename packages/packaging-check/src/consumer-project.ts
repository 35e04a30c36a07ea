import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { publishedPackages, REPO_ROOT } from './workspace.js';

/**
 * A project outside the repository into which every published package was
 * installed from its `npm pack` tarball with plain npm, as a user installs
 * them: no workspace links, no pnpm, only what the tarballs and the
 * registry hold.
 */
export interface ConsumerProject {
  /** The project: package.json (`"type": "module"`) and node_modules. */
  readonly directory: string;
  /** Holds the project and the tarballs; removed by `removeConsumerProject`. */
  readonly root: string;
}

/** The environment variable through which run-checks hands one prepared project to every test file. */
export const CONSUMER_ENV = 'SILT_CONSUMER_PROJECT';

/** Packs every published package and installs the tarballs (with @types/node) into a new project under the OS temp directory. */
export function prepareConsumerProject(): ConsumerProject {
  const root = mkdtempSync(join(tmpdir(), 'silt-consumer-'));
  try {
    const tarballs = join(root, 'tarballs');
    const directory = join(root, 'project');
    mkdirSync(tarballs);
    mkdirSync(directory);
    const packed = npm(REPO_ROOT, ['pack', '--json', '--pack-destination', tarballs, ...publishedPackages().map((p) => p.directory)]);
    const files = (JSON.parse(packed) as Array<{ filename: string }>).map(({ filename }) => join(tarballs, filename));
    writeFileSync(
      join(directory, 'package.json'),
      `${JSON.stringify({ name: 'silt-consumer', private: true, type: 'module' }, null, 2)}\n`,
    );
    // --ignore-scripts: better-sqlite3's install compiles SQLite (a minute or
    // more) and tests nothing of silt's; its binary is taken from the workspace below.
    npm(directory, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', ...files, '@types/node@^20.19.0']);
    provideBetterSqlite3Binary(directory);
    // @silt/mmap is silt's own addon: build it from its tarball's sources, as npm's install would.
    npm(directory, ['rebuild', '@silt/mmap']);
    return { directory, root };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** Removes the project and the tarballs, unless SILT_KEEP_CONSUMER=1 (to look at them after a failure). */
export function removeConsumerProject(project: ConsumerProject): void {
  if (process.env.SILT_KEEP_CONSUMER === '1') process.stderr.write(`kept the consumer project: ${project.directory}\n`);
  else rmSync(project.root, { recursive: true, force: true });
}

/** The project run-checks prepared for every test file, or undefined when a test file runs alone. */
export function sharedConsumerProject(): ConsumerProject | undefined {
  const root = process.env[CONSUMER_ENV];
  return root === undefined ? undefined : { root, directory: join(root, 'project') };
}

/**
 * Copies the workspace's compiled better-sqlite3 addon when the installed
 * version is the workspace's; otherwise builds it as an install would.
 */
function provideBetterSqlite3Binary(directory: string): void {
  const installed = join(directory, 'node_modules', 'better-sqlite3');
  const workspaceRequire = createRequire(join(REPO_ROOT, 'packages', 'segments', 'package.json'));
  const workspaceModule = dirname(workspaceRequire.resolve('better-sqlite3/package.json'));
  const binary = join('build', 'Release', 'better_sqlite3.node');
  if (versionOf(installed) === versionOf(workspaceModule) && existsSync(join(workspaceModule, binary))) {
    mkdirSync(dirname(join(installed, binary)), { recursive: true });
    copyFileSync(join(workspaceModule, binary), join(installed, binary));
  } else {
    npm(directory, ['rebuild', 'better-sqlite3']);
  }
}

function versionOf(packageDirectory: string): string {
  return (JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs npm with the environment a user's shell has: none of the npm_ and pnpm variables of the script running us. */
function npm(cwd: string, args: readonly string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_)/i.test(name)));
  try {
    return execFileSync('npm', args, { cwd, env: { ...env, npm_config_update_notifier: 'false' }, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${stderr ?? String(error)}`, { cause: error });
  }
}
