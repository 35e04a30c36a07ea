import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { prepareConsumerProject, removeConsumerProject, sharedConsumerProject, type ConsumerProject } from './consumer-project.js';

/**
 * The consumer project a test file checks: the one run-checks prepared, or,
 * when the file runs alone, one of its own made before its tests and
 * removed after them.
 */
export function consumerProjectForTests(): () => ConsumerProject {
  let project = sharedConsumerProject();
  if (project === undefined) {
    before(() => {
      project = prepareConsumerProject();
    });
    after(() => {
      if (project !== undefined) removeConsumerProject(project);
    });
  }
  return () => {
    if (project === undefined) throw new Error('the consumer project was not prepared');
    return project;
  };
}

export interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node args` in `cwd`; the outcome, never a throw, so a test can show
 * what failed. A process still running after two minutes is hung (each
 * finishes in seconds): it is killed, and its status is null.
 */
export function runNode(args: readonly string[], cwd: string): Outcome {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the workspace's TypeScript compiler (`tsc -p project`). */
export function runTsc(tsconfigDirectory: string): Outcome {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return runNode([tsc, '-p', tsconfigDirectory, '--pretty', 'false'], tsconfigDirectory);
}

/** Writes `files` (relative path → text) under `directory`, making folders as needed. */
export function writeFiles(directory: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
}

/** A new empty folder inside the project, for an index or an example's working directory. */
export function scratchDirectory(project: ConsumerProject, label: string): string {
  mkdirSync(join(project.root, 'scratch'), { recursive: true });
  return mkdtempSync(join(project.root, 'scratch', `${label}-`));
}

/** What a test says when a process did not exit 0: its status and both outputs. */
export function describeFailure(what: string, outcome: Outcome): string {
  return `${what} exited ${outcome.status}\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`;
}
