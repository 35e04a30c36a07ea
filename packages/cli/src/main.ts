import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { invocationOf, type CommandContext, type CommonOptions } from './support/command-context.js';
import { ArgumentError, ExitCode, reportOf, throwArgumentError, verboseDetail } from './support/errors.js';
import { Interrupts } from './support/interrupts.js';
import { LineWriter } from './support/line-writer.js';
import { addKeyBoundOptions, addRangeOptions, wholeNumber, type RangeFlags } from './support/option-parsers.js';

/**
 * The `silt` command line: every command's arguments, options and help are
 * defined here; each command's work is in its own module, loaded only when
 * that command runs (so `silt get` does not load the merge worker pool).
 */

const DIR = 'the index directory';
const DEMO_DIR = 'silt-demo';

const EXIT_CODES = `
Exit codes:
  0    ok
  1    the operation failed (I/O error, another writer holds the index, malformed import input,
       an index that refuses to open as damaged), verify found damage, repair could not
       recover every sequence number (its report says which), or watch --changes --since n
       asked for changes the log no longer holds (rescan)
  2    bad arguments: unknown command or option, a bad value, a directory that is not an index;
       nothing was done
  3    get: the key is not in the index
  130  interrupted by Ctrl-C (143: SIGTERM); the command stopped cleanly

Results go to standard output (--json: JSON, or JSON Lines for scan, export and watch); progress,
notes and errors go to standard error. Errors are one line; --verbose adds the stack.
Reads (get, scan, stats, export, watch, verify) never take the writer lock: they work while
another process writes. Writes (set, del, import, compact, repair) are the index's one writer.`;

interface CliState {
  exitCode: number;
  context: CommandContext | undefined;
}

type Handler = (command: Command, context: CommandContext) => Promise<number>;

/** Runs `silt` with `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const interrupts = new Interrupts(() => {
    if (process.stderr.isTTY) process.stderr.write('\nstopping cleanly… (Ctrl-C again quits at once)\n');
  });
  const state: CliState = { exitCode: ExitCode.ok, context: undefined };
  const stdout = new LineWriter(process.stdout);
  try {
    const program = buildProgram(state, interrupts, stdout);
    refuseUnknownHelpTopic(program, argv);
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    state.exitCode = reportFailure(error, argv, state, interrupts);
  } finally {
    interrupts.dispose();
  }
  await stdout.flush().catch(() => undefined);
  return state.exitCode;
}

/**
 * `silt help bogus`: commander would print the whole help (to standard
 * error, before any exit callback); an unknown command is one line here,
 * as it is without `help`.
 */
function refuseUnknownHelpTopic(program: Command, argv: readonly string[]): void {
  const [first, topic] = argv;
  if (first !== 'help' || topic === undefined || topic.startsWith('-')) return;
  if (program.commands.some((command) => command.name() === topic || command.aliases().includes(topic))) return;
  throw new ArgumentError('silt', `unknown command '${topic}'`);
}

function reportFailure(error: unknown, argv: readonly string[], state: CliState, interrupts: Interrupts): number {
  const report = reportOf(error, (signal) => interrupts.exitCode(signal));
  if (report.message !== undefined) {
    const name = error instanceof ArgumentError ? error.command : state.context === undefined ? 'silt' : `silt ${state.context.name}`;
    const json = state.context?.json ?? argv.includes('--json');
    const line = json
      ? JSON.stringify({ error: { code: report.code, message: report.message, exitCode: report.exitCode } })
      : `${name}: ${report.message}`;
    process.stderr.write(`${line}\n`);
  }
  if ((state.context?.verbose ?? argv.includes('--verbose')) && report.message !== undefined)
    process.stderr.write(`${verboseDetail(error)}\n`);
  return report.exitCode;
}

function buildProgram(state: CliState, interrupts: Interrupts, stdout: LineWriter): Command {
  const program = new Command('silt')
    .description('silt: a near-realtime, crash-safe, embedded key-value index. Start with `silt demo`.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: silt <command> --help)')
    // Commander writes no error itself: runCli reports argument errors as
    // every other failure, in one line (or JSON with --json), not the help.
    .configureOutput({ outputError: () => undefined })
    .exitOverride(throwArgumentError('silt'))
    .addHelpText('after', EXIT_CODES);

  const define = (
    name: string,
    summary: string,
    configure: (command: Command) => Command,
    handler: Handler,
    examples: readonly string[] = [],
  ): Command => {
    const command = configure(program.command(name).description(summary))
      .option('--json', 'machine-readable output on standard output')
      .option('--verbose', 'the stack of an error, not only its line')
      .exitOverride(throwArgumentError(`silt ${name}`));
    if (examples.length > 0) command.addHelpText('after', `\nExamples:\n${examples.map((example) => `  ${example}`).join('\n')}`);
    command.action(async () => {
      const options = command.opts<CommonOptions>();
      const context: CommandContext = {
        name,
        out: stdout,
        stderr: process.stderr,
        interrupts,
        json: options.json === true,
        verbose: options.verbose === true,
        invocation: invocationOf(process.argv[1], process.cwd()),
      };
      state.context = context;
      state.exitCode = await handler(command, context);
    });
    return command;
  };

  define(
    'demo',
    'load keys with a live view of segments, merges and reader visibility, then explore the index it leaves',
    (command) =>
      command
        .argument('[dir]', `where the index goes`, DEMO_DIR)
        .option('--keys <n>', 'keys to load', wholeNumber(1, 100_000_000), 1_000_000)
        .option('--readers <n>', 'reader processes measuring visibility', wholeNumber(0, 16), 2)
        .option('--batch <n>', 'keys per atomic batch (mset)', wholeNumber(1, 100_000), 1000)
        .option('--rate <keys/s>', 'pace the load to this many keys per second (0: as fast as the writer goes)', wholeNumber(0), 20_000)
        .option(
          '--refresh-interval <ms>',
          "the writer's refreshIntervalMs: how often new writes are flushed into segments (readers see them sooner, tailing the log)",
          wholeNumber(1, 60_000),
          1000,
        )
        .option('--fresh', 'remove an index an earlier demo left in dir first'),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runDemo } = await import('./demo/demo.js');
      return runDemo(dir, command.opts(), context);
    },
    ['silt demo', 'silt demo --fresh --rate 0', 'silt demo /tmp/demo --keys 200000 --readers 1 --refresh-interval 50'],
  );

  define(
    'get',
    'print the value of a key (exit 3 when it is absent)',
    (command) => command.argument('<dir>', DIR).argument('<key>', 'the key'),
    async (command, context) => {
      const [dir, key] = command.processedArgs as [string, string];
      const { runGet } = await import('./commands/get.js');
      return runGet(dir, key, context);
    },
    ['silt get silt-demo user:0000042', 'silt get silt-demo user:0000042 --json'],
  );

  define(
    'set',
    'set a key to a value (creates the index when dir is missing or empty)',
    (command) => command.argument('<dir>', DIR).argument('<key>', 'the key').argument('<value>', 'the value, a string'),
    async (command, context) => {
      const [dir, key, value] = command.processedArgs as [string, string, string];
      const { runSet } = await import('./commands/set.js');
      return runSet(dir, key, value, context);
    },
    ['silt set idx greeting hello'],
  );

  define(
    'del',
    'delete keys',
    (command) => command.alias('delete').argument('<dir>', DIR).argument('<keys...>', 'the keys'),
    async (command, context) => {
      const [dir, keys] = command.processedArgs as [string, string[]];
      const { runDel } = await import('./commands/del.js');
      return runDel(dir, keys, context);
    },
    ['silt del idx greeting', 'silt del idx a b c --json'],
  );

  define(
    'scan',
    'print live entries in key order: key<TAB>value lines, or JSON Lines with --json',
    (command) => addRangeOptions(command.argument('<dir>', DIR)).option('--keys-only', 'print keys only'),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runScan } = await import('./commands/scan.js');
      return runScan(dir, command.opts<RangeFlags & { keysOnly?: boolean }>(), context);
    },
    ['silt scan silt-demo --prefix user:00001 --limit 5', 'silt scan idx --gte b --lt d --reverse', 'silt scan idx --keys-only | wc -l'],
  );

  define(
    'stats',
    'the current generation, its segments, the log, the writer and the readers',
    (command) => command.argument('<dir>', DIR).option('--count', 'also count the live keys (reads every entry)'),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runStats } = await import('./commands/stats.js');
      return runStats(dir, command.opts<{ count?: boolean }>(), context);
    },
    ['silt stats silt-demo', 'silt stats silt-demo --json'],
  );

  define(
    'verify',
    'check every checksum of every live segment and log file (exit 1 and a report on damage)',
    (command) => command.argument('<dir>', DIR),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runVerify } = await import('./commands/verify.js');
      return runVerify(dir, context);
    },
    ['silt verify silt-demo', 'silt verify idx --json'],
  );

  define(
    'backup',
    'copy the index to dest while a writer runs: every write acknowledged before it began, and a copy that opens as an index',
    (command) => command.argument('<dir>', DIR).argument('<dest>', 'where the copy goes: a new or empty directory'),
    async (command, context) => {
      const [dir, dest] = command.processedArgs as [string, string];
      const { runBackup } = await import('./commands/backup.js');
      return runBackup(dir, dest, context);
    },
    ['silt backup idx /backups/idx-2026-12-04', 'silt backup idx idx.bak --json'],
  );

  define(
    'repair',
    'rebuild a lost or damaged manifest from the segment files and the log; deletes nothing (unused files go to lost+found/)',
    (command) => command.argument('<dir>', DIR).option('--dry-run', 'read and report what repair would do; write nothing'),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runRepair } = await import('./commands/repair.js');
      return runRepair(dir, command.opts<{ dryRun?: boolean }>(), context);
    },
    ['silt repair idx --dry-run', 'silt repair idx', 'silt repair idx --json'],
  );

  define(
    'compact',
    'merge segments until at most n are left (forceMerge), as the writer',
    (command) => command.argument('<dir>', DIR).option('--segments <n>', 'segments to leave', wholeNumber(1), 1),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runCompact } = await import('./commands/compact.js');
      return runCompact(dir, command.opts<{ segments: number }>().segments, context);
    },
    ['silt compact idx', 'silt compact idx --segments 4'],
  );

  define(
    'import',
    'write JSON Lines ({"key","value"}) or TSV (key<TAB>value) records, streamed; a malformed line stops it (the records before it stay)',
    (command) =>
      command
        .argument('<dir>', `${DIR} (created when missing or empty)`)
        .argument('<file>', 'the records, or - for standard input')
        .addOption(
          new Option('--format <format>', "the records' format (default: from the extension, else the first line)").choices([
            'jsonl',
            'tsv',
          ]),
        )
        .option('--continue', 'skip malformed lines (each is named) instead of stopping at the first')
        .option('--dry-run', 'read and check every line; write nothing (exit 1 naming the malformed lines)')
        .option('--batch <n>', 'records per atomic batch (mset)', wholeNumber(1, 100_000), 1000),
    async (command, context) => {
      const [dir, file] = command.processedArgs as [string, string];
      const { runImport } = await import('./commands/import.js');
      return runImport(dir, file, command.opts(), context);
    },
    [
      'silt import idx data.jsonl',
      'silt import idx data.jsonl --dry-run',
      'cut -f1,3 users.tsv | silt import idx - --format tsv',
      'silt export a | silt import b -',
    ],
  );

  define(
    'export',
    'write live entries as JSON Lines, the format import reads back exactly',
    (command) =>
      addRangeOptions(command.argument('<dir>', DIR).argument('[file]', 'where to write (default: standard output)')).option(
        '--force',
        'replace file if it exists',
      ),
    async (command, context) => {
      const [dir, file] = command.processedArgs as [string, string | undefined];
      const { runExport } = await import('./commands/export.js');
      return runExport(dir, file, command.opts(), context);
    },
    ['silt export silt-demo demo.jsonl', 'silt export idx --prefix user: | gzip > users.jsonl.gz'],
  );

  define(
    'watch',
    'follow the index as a reader: a line per refresh (what each flush or merge changed), or with --changes a line per write',
    (command) =>
      addKeyBoundOptions(
        command
          .argument('<dir>', DIR)
          .option('--changes', 'print the change feed: a line per acknowledged write (sequence, key, value or del), within milliseconds'),
      )
        .option('--since <sequence>', 'with --changes: resume after this sequence number (a stopped watch prints it)', wholeNumber(0))
        .option('--key <key>', "show this key's value on each refresh line (repeatable)", (key: string, keys: string[] = []) => [
          ...keys,
          key,
        ])
        .option('--count <n>', 'stop after n refreshes, or with --changes n changes (default: until Ctrl-C)', wholeNumber(1)),
    async (command, context) => {
      const [dir] = command.processedArgs as [string];
      const { runWatch } = await import('./commands/watch.js');
      return runWatch(dir, command.opts(), context);
    },
    [
      'silt watch silt-demo',
      'silt watch idx --key greeting --count 1',
      'silt watch idx --changes --prefix user:',
      'silt watch idx --changes --json --since 4242 | jq -c .',
    ],
  );

  return program;
}

function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const { version } = JSON.parse(text) as { version?: unknown };
  return typeof version === 'string' ? version : '0.0.0';
}
