import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { SiltLevel } from '@silt/level';
import { Index } from 'silt';
import { opsPerSecond, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';

/**
 * The abstract-level adapter (`@silt/level`) beside classic-level, through
 * the same abstract-level calls on both, each engine in a fresh directory
 * every round, the engines taking turns round by round:
 *
 * 1. load: `db.batch()` of 1,000 puts at a time, awaited;
 * 2. `db.put()`, one awaited at a time, over keys not loaded yet;
 * 3. then each engine settles (silt: `flush()` and its merges done, through
 *    `db.index`; classic-level: `compactRange()` over every key), and
 * 4. `await db.get()` of every loaded key in one shuffled order, one at a
 *    time (an untimed pass first, then a timed one), and the same keys
 *    through `await db.getMany()`, 1,000 keys a call;
 * 5. a full scan: `for await (const [key, value] of db.iterator())`
 *    (an untimed scan first, then a timed one), and the same scan by
 *    `iterator.nextv(1000)` (no promise per entry).
 *
 * silt's own synchronous `Index.get` on the same keys is a reference row:
 * what the adapter costs over the index underneath.
 */

const KEYS = Number(process.env.LEVEL_BENCH_KEYS ?? 200_000);
const PUTS = Number(process.env.LEVEL_BENCH_PUTS ?? 20_000);
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const BATCH = 1_000;
const GET_MANY = 1_000;
const NEXTV = 1_000;

const count = (n: number): string => n.toLocaleString('en-US');
const WORKLOAD = {
  batch: `db.batch() load of ${count(KEYS)} random keys (${KEY_BYTES} B, ${VALUE_BYTES} B values), ${count(BATCH)} puts a batch`,
  put: `${count(PUTS)} awaited db.put(), one at a time`,
  get: `awaited db.get() of the ${count(KEYS)} loaded keys, random order`,
  getMany: `awaited db.getMany() of ${count(GET_MANY)} keys at a time, the ${count(KEYS)} loaded keys in random order`,
  iterator: `for await over db.iterator() of all ${count(KEYS + PUTS)} keys`,
  nextv: `db.iterator().nextv(${count(NEXTV)}) until empty, all ${count(KEYS + PUTS)} keys`,
};
const ENGINE = {
  silt: 'silt via @silt/level',
  classic: 'classic-level',
  // Not named 'silt …': the summary then takes the adapter, not this, as silt's best.
  siltDirect: 'Index.get of silt, synchronous (reference: the index without the adapter)',
};
const DURABILITY = {
  silt: "silt 'write' (OS cache, bg fdatasync 200 ms)",
  classic: 'classic-level sync:false (OS cache)',
  read: 'read',
};

interface RoundResult {
  readonly batch: number;
  readonly put: number;
  readonly get: number;
  readonly getMany: number;
  readonly iterator: number;
  readonly nextv: number;
  readonly direct?: number;
}

/** The calls both engines are driven through: abstract-level's, typed as both declare them. */
interface LevelDatabase {
  batch(operations: Array<{ type: 'put'; key: string; value: string }>): Promise<void>;
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  getMany(keys: string[]): Promise<Array<string | undefined>>;
  iterator(): AsyncIterable<[string, string]> & { nextv(size: number): Promise<Array<[string, string]>>; close(): Promise<void> };
}

async function measure(
  db: LevelDatabase,
  data: KeyValueDataset,
  putKeys: readonly string[],
  settle: () => Promise<void>,
): Promise<RoundResult> {
  const batch = await opsPerSecond(KEYS, async () => {
    for (const pairs of data.pairBatches) await db.batch(pairs.map(([key, value]) => ({ type: 'put', key, value })));
  });
  const value = data.values[0]!;
  const put = await opsPerSecond(PUTS, async () => {
    for (const key of putKeys) await db.put(key, value);
  });
  await settle();
  const getPass = async (): Promise<void> => {
    let bytes = 0;
    for (const key of data.lookups) {
      const found = await db.get(key);
      if (found === undefined) throw new Error(`lost key ${key}`);
      bytes += found.length;
    }
    if (bytes !== KEYS * VALUE_BYTES) throw new Error(`read ${bytes} value bytes, expected ${KEYS * VALUE_BYTES}`);
  };
  await getPass();
  const get = await opsPerSecond(KEYS, getPass);
  const getManyPass = async (): Promise<void> => {
    let bytes = 0;
    for (let start = 0; start < KEYS; start += GET_MANY) {
      for (const found of await db.getMany(data.lookups.slice(start, start + GET_MANY))) bytes += found?.length ?? 0;
    }
    if (bytes !== KEYS * VALUE_BYTES) throw new Error(`read ${bytes} value bytes, expected ${KEYS * VALUE_BYTES}`);
  };
  await getManyPass();
  const getMany = await opsPerSecond(KEYS, getManyPass);
  const scan = async (): Promise<void> => {
    let entries = 0;
    for await (const [key, found] of db.iterator()) entries += key.length > 0 && found.length > 0 ? 1 : 0;
    if (entries !== KEYS + PUTS) throw new Error(`scanned ${entries} entries, expected ${KEYS + PUTS}`);
  };
  await scan();
  const iterator = await opsPerSecond(KEYS + PUTS, scan);
  const nextvScan = async (): Promise<void> => {
    const it = db.iterator();
    let entries = 0;
    for (let items = await it.nextv(NEXTV); items.length > 0; items = await it.nextv(NEXTV)) entries += items.length;
    await it.close();
    if (entries !== KEYS + PUTS) throw new Error(`scanned ${entries} entries, expected ${KEYS + PUTS}`);
  };
  await nextvScan();
  const nextv = await opsPerSecond(KEYS + PUTS, nextvScan);
  return { batch, put, get, getMany, iterator, nextv };
}

async function siltRound(context: BenchContext, data: KeyValueDataset, putKeys: readonly string[]): Promise<RoundResult> {
  const db = new SiltLevel(join(context.scratch('silt-level'), 'db'));
  await db.open();
  try {
    const index = (): Index => {
      if (!(db.index instanceof Index)) throw new Error('the writer is not open');
      return db.index;
    };
    const result = await measure(db, data, putKeys, async () => {
      await index().flush();
      await index().mergesIdle();
    });
    const direct = await opsPerSecond(KEYS, () => {
      const writer = index();
      for (const key of data.lookups) if (writer.get(key) === undefined) throw new Error(`lost key ${key}`);
    });
    return { ...result, direct };
  } finally {
    await db.close();
  }
}

async function classicRound(context: BenchContext, data: KeyValueDataset, putKeys: readonly string[]): Promise<RoundResult> {
  const db = new ClassicLevel<string, string>(join(context.scratch('classic-level'), 'db'));
  await db.open();
  try {
    // Every key is ASCII from a 64-character alphabet: '\u0000' to '\uffff' spans them all.
    return await measure(db, data, putKeys, () => db.compactRange('\u0000', '\uffff'));
  } finally {
    await db.close();
  }
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const all = makeKeyValueDataset({ count: KEYS + PUTS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, batchSize: BATCH, seed: 17 });
  const data = makeKeyValueDataset({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, batchSize: BATCH, seed: 17 });
  const loaded = new Set(data.keys);
  const putKeys = all.keys.filter((key) => !loaded.has(key)).slice(0, PUTS);
  if (putKeys.length !== PUTS) throw new Error(`found ${putKeys.length} fresh keys for puts, wanted ${PUTS}`);
  context.log(`${count(KEYS)} keys loaded, ${count(PUTS)} puts, ${context.rounds} interleaved rounds`);
  const runs = await interleavedRounds(context.rounds, {
    silt: () => siltRound(context, data, putKeys),
    classic: () => classicRound(context, data, putKeys),
  });
  const rows: BenchRow[] = [];
  const writes = DURABILITY;
  const reads = { silt: DURABILITY.read, classic: DURABILITY.read };
  for (const [workload, pick, unit, durability] of [
    [WORKLOAD.batch, (r: RoundResult) => r.batch, 'keys/s', writes],
    [WORKLOAD.put, (r: RoundResult) => r.put, 'puts/s', writes],
    [WORKLOAD.get, (r: RoundResult) => r.get, 'gets/s', reads],
    [WORKLOAD.getMany, (r: RoundResult) => r.getMany, 'keys/s', reads],
    [WORKLOAD.iterator, (r: RoundResult) => r.iterator, 'entries/s', reads],
    [WORKLOAD.nextv, (r: RoundResult) => r.nextv, 'entries/s', reads],
  ] as const) {
    rows.push({ workload, engine: ENGINE.classic, durability: durability.classic, unit, runs: runs.classic.map(pick) });
    rows.push({ workload, engine: ENGINE.silt, durability: durability.silt, unit, runs: runs.silt.map(pick), ratioTo: ENGINE.classic });
    if (workload === WORKLOAD.get) {
      rows.push({
        workload,
        engine: ENGINE.siltDirect,
        durability: DURABILITY.read,
        unit,
        runs: runs.silt.map((r) => r.direct ?? Number.NaN),
        ratioTo: ENGINE.silt,
        reference: true,
      });
    }
  }
  return rows;
}

export const suite: BenchSuite = { name: 'level', run };
