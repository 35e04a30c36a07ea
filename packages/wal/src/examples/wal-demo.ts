import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sequenceOfLogFile } from '@silt/fs';
import { WriteAheadLog, type WalEntry } from '../index.js';

/**
 * A crash, start to finish: a child process appends batches to a log in
 * `./wal-demo` in 'fsync' mode and reports each acknowledged batch; this
 * process SIGKILLs it mid-stream, reopens the log, replays it and compares
 * what was acknowledged with what was recovered.
 *
 *   node packages/wal/dist/examples/wal-demo.js   (or `npx -y pnpm@10 demo` from the repo root)
 *
 * The log is left in ./wal-demo to look at; the next run starts it afresh.
 */

const DIRECTORY = resolve('wal-demo');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The entry for a sequence number: the parent can check content without asking the child. */
function entryFor(sequence: number): WalEntry {
  const key = encoder.encode(`order:${String(sequence).padStart(6, '0')}`);
  if (sequence % 10 === 0) return { kind: 'delete', key };
  const value = encoder.encode(JSON.stringify({ sequence, amount: (sequence * 37) % 1000, note: 'x'.repeat(sequence % 50) }));
  return { kind: 'put', key, value, valueIsText: true };
}

async function child(directory: string): Promise<void> {
  const wal = await WriteAheadLog.open(directory, { durability: 'fsync', maxFileBytes: 64 * 1024 });
  process.stdout.write('ready\n');
  const writer = async (id: number): Promise<never> => {
    for (let n = 0; ; n++) {
      const count = 1 + ((n * 7 + id) % 20);
      const first = wal.lastSequence + 1;
      await wal.append(Array.from({ length: count }, (_, i) => entryFor(first + i)));
      process.stdout.write(`ack ${first} ${count}\n`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, (_, id) => writer(id)));
}

interface Acked {
  readonly first: number;
  readonly count: number;
}

async function runChildAndKill(afterMs: number): Promise<{ pid: number; acked: Acked[] }> {
  const script = fileURLToPath(import.meta.url);
  const worker = spawn(process.execPath, [script, '--child', DIRECTORY], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  worker.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<NodeJS.Signals | number | null>((done) => worker.on('exit', (code, signal) => done(signal ?? code)));
  while (!output.startsWith('ready\n')) {
    if ((await Promise.race([exited, sleep(5).then(() => 'waiting')])) !== 'waiting') throw new Error('the child died before it was ready');
  }
  await sleep(afterMs);
  worker.kill('SIGKILL');
  const how = await exited;
  const acked = output
    .split('\n')
    .slice(1, -1) // the last line may have been cut by the kill
    .map((line) => line.split(' '))
    .map(([, first, count]) => ({ first: Number(first), count: Number(count) }));
  console.log(`   killed pid ${worker.pid} with ${String(how)} after ${afterMs} ms of appending`);
  return { pid: worker.pid ?? 0, acked };
}

function sameEntry(entry: WalEntry, expected: WalEntry): boolean {
  if (entry.kind !== expected.kind || decoder.decode(entry.key) !== decoder.decode(expected.key)) return false;
  return entry.kind === 'delete' || (expected.kind === 'put' && decoder.decode(entry.value) === decoder.decode(expected.value));
}

async function parent(): Promise<void> {
  rmSync(DIRECTORY, { recursive: true, force: true });
  console.log(`silt write-ahead log demo, in ${DIRECTORY}\n`);
  console.log('1. A child process opens the log in fsync mode: append() resolves only after fdatasync.');
  console.log('   32 concurrent writers append batches of 1-20 entries; the child prints each acknowledgement.');
  const { acked } = await runChildAndKill(800);
  const ackedThrough = Math.max(0, ...acked.map((a) => a.first + a.count - 1));
  const files = readdirSync(DIRECTORY).filter((name) => sequenceOfLogFile(name) !== undefined);
  const bytes = files.reduce((sum, name) => sum + statSync(join(DIRECTORY, name)).size, 0);
  console.log(
    `   it had acknowledged ${acked.length} batches (sequence numbers up to ${ackedThrough}); ${files.length} log files, ${bytes} bytes on disk\n`,
  );

  console.log('2. Reopen the log.');
  const started = performance.now();
  const wal = await WriteAheadLog.open(DIRECTORY, { durability: 'fsync' });
  const torn = wal.recoveryReport.tornTail;
  console.log(
    torn === undefined
      ? '   the last record was whole: nothing to cut'
      : `   cut a torn record off the end: ${torn.bytesRemoved} bytes at offset ${torn.offset} of ${torn.file.slice(DIRECTORY.length + 1)} (${torn.reason})`,
  );

  console.log('\n3. Replay from the start and check every entry against what its sequence number should hold.');
  const recovered = new Map<number, number>();
  let expected = 1;
  let wrong = 0;
  for await (const record of wal.replay()) {
    if (record.firstSeq !== expected) wrong++;
    record.entries.forEach((entry, i) => {
      if (!sameEntry(entry, entryFor(record.firstSeq + i))) wrong++;
    });
    recovered.set(record.firstSeq, record.entries.length);
    expected = record.firstSeq + record.entries.length;
  }
  const missing = acked.filter((a) => recovered.get(a.first) !== a.count);
  const ms = (performance.now() - started).toFixed(0);
  console.log(`   recovered ${recovered.size} batches, sequence numbers 1..${wal.lastSequence}, in ${ms} ms (open + replay)`);
  console.log(`   acknowledged batches missing: ${missing.length}; gaps or wrong entries: ${wrong}`);
  const unacked = wal.lastSequence - ackedThrough;
  console.log(
    `   ${recovered.size - acked.length} batches (${Math.max(0, unacked)} sequence numbers past the last acknowledgement) were durable`,
  );
  console.log('   but their acknowledgement never reached us: they were in flight when the child died. The log keeps');
  console.log('   them; it is a prefix of what the child issued, never a hole or a half batch.');

  const next = await wal.append([entryFor(wal.lastSequence + 1)]);
  console.log(`\n4. Appending continues: the next batch got sequence number ${next}.`);
  await wal.close();
  console.log(`\nThe log is left in ${DIRECTORY}.`);
  if (missing.length > 0 || wrong > 0) {
    console.error('\nFAILED: the log lost or changed acknowledged data');
    process.exitCode = 1;
  } else {
    console.log('\nEvery acknowledged batch survived the SIGKILL, with its exact content.');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

if (process.argv[2] === '--child') await child(process.argv[3] ?? DIRECTORY);
else await parent();
