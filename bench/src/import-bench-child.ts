import { createReadStream } from 'node:fs';
import { ClassicLevel } from 'classic-level';

/**
 * The peer of the import bench, in its own process as `silt import` is:
 * reads the same JSON Lines file in 1 MiB chunks, parses each line with
 * JSON.parse, and writes classic-level `batch()`es of the same size, one in
 * flight while the next is parsed (what `silt import` does with `mset`).
 * Prints its record count on stdout; the parent times the process and reads
 * its peak RSS as it does silt's.
 */

const [file, path, batchArgument] = process.argv.slice(2) as [string, string, string];
const batchSize = Number(batchArgument);
const db = new ClassicLevel<string, string>(path);
await db.open();
let records = 0;
let batch: Array<{ type: 'put'; key: string; value: string }> = [];
let inFlight: Promise<void> = Promise.resolve();
let carry = '';
const send = async (): Promise<void> => {
  await inFlight;
  inFlight = db.batch(batch);
  batch = [];
};
for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 }) as AsyncIterable<string>) {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop() ?? '';
  for (const line of lines) {
    if (line === '') continue;
    const { key, value } = JSON.parse(line) as { key: string; value: string };
    batch.push({ type: 'put', key, value });
    records++;
    if (batch.length >= batchSize) await send();
  }
}
if (carry !== '') {
  const { key, value } = JSON.parse(carry) as { key: string; value: string };
  batch.push({ type: 'put', key, value });
  records++;
}
if (batch.length > 0) await send();
await inFlight;
await db.close();
process.stdout.write(`${JSON.stringify({ imported: records })}\n`);
