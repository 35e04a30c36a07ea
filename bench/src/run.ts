import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { createContext, markdownTable, writeResults, type BenchRow, type BenchSuite } from './harness.js';
import { summarize, summaryTable } from './summary.js';

/**
 * `pnpm bench [suite ...] [--rounds n]`. Each suite lives in `<name>-bench.ts`
 * and exports `suite: BenchSuite`. With no names, every known suite runs.
 */

const KNOWN_SUITES = ['wal', 'segments', 'index', 'api', 'merge', 'reader', 'restart', 'realtime', 'level', 'import', 'fleet'];

function parseArguments(argv: readonly string[]): { names: string[]; rounds: number } {
  const names: string[] = [];
  let rounds = 5;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--rounds') {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive whole number');
    } else if (KNOWN_SUITES.includes(arg)) {
      names.push(arg);
    } else {
      throw new Error(`unknown bench suite '${arg}'; known: ${KNOWN_SUITES.join(', ')}`);
    }
  }
  return { names: names.length > 0 ? names : KNOWN_SUITES, rounds };
}

async function loadSuite(name: string): Promise<BenchSuite> {
  const module = (await import(`./${name}-bench.js`)) as { suite: BenchSuite };
  return module.suite;
}

async function main(): Promise<void> {
  const { names, rounds } = parseArguments(process.argv.slice(2));
  const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  const all: BenchRow[] = [];
  for (const name of names) {
    const suite = await loadSuite(name);
    const { context, cleanup } = createContext(name, rounds);
    try {
      const rows = await suite.run(context);
      all.push(...rows);
      process.stdout.write(`\n## ${name}\n\n${markdownTable(rows)}\n`);
      process.stderr.write(`results: ${writeResults(resultsDir, name, rows)}\n`);
    } finally {
      cleanup();
    }
  }
  const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`;
  const summary = summarize(all);
  if (summary.length > 0) process.stdout.write(`\n## silt against the best peer\n\n${summaryTable(summary)}\n`);
  process.stderr.write(`results: ${writeResults(resultsDir, 'all', all)}\n`);
  process.stdout.write(`\n${new Date().toISOString().slice(0, 10)} · ${machine} · median of ${rounds} rounds\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
