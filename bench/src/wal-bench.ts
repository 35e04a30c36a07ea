import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WriteAheadLog, type Durability, type WalEntry } from '@silt/wal';
import { opsPerSecond, rounds, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';

/**
 * Appends per second for 100-byte records (one put per append: a 16-byte key
 * and a 43-byte value, which the WAL frames into exactly 100 bytes on disk),
 * one awaited append at a time and with 1,000 appends in flight, in each
 * durability mode, beside the physical limit measured in the same run on the
 * same disk: a raw `writeSync` + `fdatasync` loop of 100-byte writes, and a
 * raw `writeSync` loop without sync. Every timed run ends with `sync()`, so
 * 'none' pays for writing what it buffered.
 */

const RECORD_BYTES = 100;
const KEY_BYTES = 16;
const VALUE_BYTES = 43; // 32 header + 1 kind + 4 key length + 4 value length + 16 + 43 = 100
const CONCURRENCY = 1000;

const RAW_SYNC = 'raw writeSync+fdatasync';
const RAW_WRITE = 'raw writeSync';

const DURABILITY_LABEL: Record<Durability | 'raw-sync' | 'raw-write', string> = {
  fsync: 'fdatasync per group (power loss)',
  write: 'in the OS (process crash)',
  none: 'memory until sync',
  'raw-sync': 'fdatasync per write',
  'raw-write': 'in the OS',
};

/** Operations per round, sized so each round takes a fraction of a second to a few seconds. */
const OPERATIONS = {
  sequential: { fsync: 1_000, write: 20_000, none: 100_000, rawSync: 1_000, rawWrite: 100_000 },
  concurrent: { fsync: 50_000, write: 100_000, none: 200_000 },
} as const;

function entryFor(i: number): WalEntry[] {
  const key = new Uint8Array(KEY_BYTES);
  new DataView(key.buffer).setUint32(0, i);
  return [{ kind: 'put', key, value: new Uint8Array(VALUE_BYTES).fill(i & 0xff) }];
}

async function walRun(context: BenchContext, durability: Durability, operations: number, concurrency: number): Promise<number> {
  const wal = await WriteAheadLog.open(context.scratch(`wal-${durability}-${concurrency}`), { durability });
  try {
    const appendsPerWorker = Math.ceil(operations / concurrency);
    const worker = async (): Promise<void> => {
      for (let i = 0; i < appendsPerWorker; i++) await wal.append(entryFor(i));
    };
    return await opsPerSecond(appendsPerWorker * concurrency, async () => {
      await Promise.all(Array.from({ length: concurrency }, worker));
      await wal.sync();
    });
  } finally {
    await wal.close();
  }
}

function rawRun(context: BenchContext, operations: number, sync: boolean): Promise<number> {
  const fd = openSync(join(context.scratch(sync ? 'raw-sync' : 'raw-write'), 'raw.log'), 'w');
  const record = new Uint8Array(RECORD_BYTES).fill(7);
  try {
    return opsPerSecond(operations, () => {
      for (let i = 0, position = 0; i < operations; i++, position += RECORD_BYTES) {
        writeSync(fd, record, 0, RECORD_BYTES, position);
        if (sync) fdatasyncSync(fd);
      }
    });
  } finally {
    closeSync(fd);
  }
}

function row(workload: string, engine: string, durability: keyof typeof DURABILITY_LABEL, runs: number[], ratioTo?: string): BenchRow {
  const reference = engine === RAW_SYNC || engine === RAW_WRITE;
  return {
    workload,
    engine,
    durability: DURABILITY_LABEL[durability],
    unit: 'appends/s',
    runs,
    reference,
    ...(ratioTo === undefined ? {} : { ratioTo }),
  };
}

export const suite: BenchSuite = {
  name: 'wal',
  async run(context) {
    const rows: BenchRow[] = [];
    const workloads = [
      { workload: '1 awaited append at a time', concurrency: 1, ops: OPERATIONS.sequential },
      {
        workload: `${CONCURRENCY.toLocaleString('en')} concurrent appends`,
        concurrency: CONCURRENCY,
        ops: { ...OPERATIONS.sequential, ...OPERATIONS.concurrent },
      },
    ];
    for (const { workload, concurrency, ops } of workloads) {
      context.log(`${workload}: raw limits`);
      rows.push(row(workload, RAW_SYNC, 'raw-sync', await rounds(context.rounds, () => rawRun(context, ops.rawSync, true))));
      rows.push(row(workload, RAW_WRITE, 'raw-write', await rounds(context.rounds, () => rawRun(context, ops.rawWrite, false))));
      for (const durability of ['fsync', 'write', 'none'] as const) {
        context.log(`${workload}: silt wal (${durability})`);
        const runs = await rounds(context.rounds, () => walRun(context, durability, ops[durability], concurrency));
        rows.push(row(workload, `silt wal (${durability})`, durability, runs, durability === 'fsync' ? RAW_SYNC : RAW_WRITE));
      }
    }
    return rows;
  },
};
