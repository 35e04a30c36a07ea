import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './workspace.js';

/**
 * The code blocks of the READMEs that are meant to run as pasted. The
 * convention (root README, "Contributing"): a block fenced ```js runs as
 * an ES module file (`.mjs`); ```ts is compiled by a strict tsc and run;
 * ```js fragment and ```ts fragment are sketches that name what they do
 * not define, and are not run; any other language (sh, text, none) is
 * not code to run.
 */
export interface ReadmeExample {
  /** The README, relative to the repository root. */
  readonly readme: string;
  /** The line of the opening fence, 1-based. */
  readonly line: number;
  readonly language: 'js' | 'ts';
  readonly code: string;
}

/** A fence whose info string starts as JavaScript or TypeScript but is not one of the conventions' four. */
export class UnknownFenceError extends Error {
  constructor(readme: string, line: number, info: string) {
    super(`${readme}:${line}: a code block fenced \`\`\`${info}: use js or ts (run) or "js fragment" / "ts fragment" (not run)`);
  }
}

/** The root README and every package's. */
export function readmes(): string[] {
  const packages = readdirSync(join(REPO_ROOT, 'packages'))
    .sort()
    .map((folder) => join('packages', folder, 'README.md'))
    .filter((path) => existsSync(join(REPO_ROOT, path)));
  return ['README.md', ...packages];
}

/** Every runnable block of `readme` (relative to the repository root), in order. */
export function runnableExamples(readme: string): ReadmeExample[] {
  const lines = readFileSync(join(REPO_ROOT, readme), 'utf8').split('\n');
  const examples: ReadmeExample[] = [];
  let open: { line: number; info: string; indent: string; body: string[] } | undefined;
  for (const [i, text] of lines.entries()) {
    const fence = /^(\s*)```(.*)$/.exec(text);
    if (open !== undefined) {
      if (fence !== null && fence[2]!.trim() === '') {
        const language = languageOf(readme, open.line, open.info);
        const code = open.body.map((line) => (line.startsWith(open!.indent) ? line.slice(open!.indent.length) : line)).join('\n');
        if (language !== undefined) examples.push({ readme, line: open.line, language, code: `${code}\n` });
        open = undefined;
      } else {
        open.body.push(text);
      }
    } else if (fence !== null) {
      open = { line: i + 1, info: fence[2]!.trim(), indent: fence[1]!, body: [] };
    }
  }
  return examples;
}

/** 'js' or 'ts' for a block to run; undefined for one not to; throws on a JavaScript or TypeScript fence the convention does not know. */
function languageOf(readme: string, line: number, info: string): 'js' | 'ts' | undefined {
  if (info === 'js' || info === 'ts') return info;
  const [language = '', ...rest] = info.split(/\s+/);
  if (!/^(js|ts|javascript|typescript|mjs|cjs|mts|cts|jsx|tsx)$/i.test(language)) return undefined;
  if ((language === 'js' || language === 'ts') && rest.join(' ') === 'fragment') return undefined;
  throw new UnknownFenceError(readme, line, info);
}
