import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';
import { Index } from 'silt';
import { SeededRandom } from '@silt/fs/internal';
import { median, opsPerSecond, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { interleavedRounds } from './interleaved-rounds.js';
import { makeKeyValueDataset, type KeyValueDataset } from './key-value-dataset.js';

/**
 * The calls classic-level and lmdb-js users reach for first, on the same
 * data as their own calls, each engine in a fresh directory every round:
 *
 * 1. `getMany` of 1,000 random keys at a time over every loaded key (a
 *    shuffled order), after the load (silt flushed and merged to its
 *    settled state; classic-level as its own load left it). Beside it, silt
 *    reading the same keys with 1,000 `get`s a call, passes of the two
 *    taking turns (a row of its own, silt against itself).
 * 2. `batch` of 1,000 operations, 800 puts of new keys and 200 deletes of
 *    keys put by the batch before, one awaited batch at a time.
 * 3. JSON values: silt `valueEncoding: 'json'` against lmdb-js with its
 *    default encoding (msgpack, shared record structures): a load of
 *    objects in awaited batches of 1,000 (silt's `flush()` timed, lmdb's
 *    `flushed` awaited), then random gets of every key, each value checked.
 */

const KEYS = Number(process.env.API_BENCH_KEYS ?? 200_000);
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const GET_MANY = 1_000;
const BATCH = 1_000;
const BATCH_DELETES = 200;

const count = (n: number): string => n.toLocaleString('en-US');
const WORKLOAD = {
  getMany: `getMany of ${count(GET_MANY)} random keys, over ${count(KEYS)} loaded keys (${KEY_BYTES} B, ${VALUE_BYTES} B values)`,
  getManyAgainstGets: `the same getMany calls against ${count(GET_MANY)} gets a call (silt alone, passes taking turns)`,
  batch: `batch of ${count(BATCH)}: ${BATCH - BATCH_DELETES} puts + ${BATCH_DELETES} deletes, awaited one at a time, ${count(KEYS)} operations`,
  jsonLoad: `load ${count(KEYS)} JSON objects (~110 B as JSON), awaited batches of ${count(BATCH)}`,
  jsonGet: `random get of the ${count(KEYS)} JSON objects, each checked`,
};

const ENGINE = {
  siltGetMany: 'silt getMany',
  siltGets: `silt ${count(GET_MANY)} × get`,
  classicGetMany: 'classic-level getMany',
  siltBatch: 'silt batch([...])',
  classicBatch: 'classic-level batch([...])',
  siltJson: "silt valueEncoding 'json'",
  siltJsonLoad: "silt valueEncoding 'json', mset + flush()",
  lmdbJson: 'lmdb-js default encoding (msgpack)',
} as const;

const DURABILITY = {
  silt: 'write (OS cache, bg fdatasync 200 ms)',
  classic: 'classic-level sync:false (OS cache)',
  lmdb: 'lmdb default (ack on commit, fsync follows); `flushed` awaited at the end',
  read: 'read',
} as const;

/** The keys of the dataset in the shared shuffled order, cut into getMany calls. */
function getManyCalls(data: KeyValueDataset): string[][] {
  const calls: string[][] = [];
  for (let start = 0; start < data.lookups.length; start += GET_MANY) calls.push(data.lookups.slice(start, start + GET_MANY));
  return calls;
}

/** Checks one getMany answer: every key found, every value its full length. */
function checkValues(values: ReadonlyArray<string | Uint8Array | undefined>, valueBytes: number): void {
  for (const value of values) if (value?.length !== valueBytes) throw new Error(`getMany returned ${String(value)}`);
}

// ---- 1: getMany ----

async function siltGetMany(context: BenchContext, data: KeyValueDataset): Promise<{ getMany: number; gets: number }> {
  const index = await Index.open(context.scratch('silt-get-many'), { valueEncoding: 'utf8' });
  try {
    for (const batch of data.pairBatches) await index.mset(batch);
    await index.flush();
    await index.mergesIdle();
    const calls = getManyCalls(data);
    const getManyPass = (): void => {
      for (const keys of calls) checkValues(index.getMany(keys), data.valueBytes);
    };
    const getsPass = (): void => {
      for (const keys of calls)
        checkValues(
          keys.map((key) => index.get(key)),
          data.valueBytes,
        );
    };
    getManyPass(); // untimed: JIT, first-touch faults, first-use block checks
    getsPass();
    // Three passes of each, taking turns, so load that comes and goes falls on both alike.
    const getMany: number[] = [];
    const gets: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      getMany.push(await opsPerSecond(calls.length, getManyPass));
      gets.push(await opsPerSecond(calls.length, getsPass));
    }
    return { getMany: median(getMany), gets: median(gets) };
  } finally {
    await index.close();
  }
}

async function classicGetMany(context: BenchContext, data: KeyValueDataset): Promise<number> {
  const db = new ClassicLevel<string, string>(join(context.scratch('classic-get-many'), 'db'));
  await db.open();
  try {
    for (const batch of data.pairBatches) await db.batch(batch.map(([key, value]) => ({ type: 'put', key, value })));
    const calls = getManyCalls(data);
    const pass = async (): Promise<void> => {
      for (const keys of calls) checkValues(await db.getMany(keys), data.valueBytes);
    };
    await pass();
    return await opsPerSecond(calls.length, pass);
  } finally {
    await db.close();
  }
}

async function getManyRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const runs = await interleavedRounds(context.rounds, {
    silt: () => siltGetMany(context, data),
    classic: () => classicGetMany(context, data),
  });
  const row = { workload: WORKLOAD.getMany, durability: DURABILITY.read, unit: 'calls/s' };
  const againstGets = { ...row, workload: WORKLOAD.getManyAgainstGets };
  const getManyRuns = runs.silt.map((r) => r.getMany);
  return [
    { ...row, engine: ENGINE.classicGetMany, runs: runs.classic },
    { ...row, engine: ENGINE.siltGetMany, runs: getManyRuns, ratioTo: ENGINE.classicGetMany },
    { ...againstGets, engine: ENGINE.siltGets, runs: runs.silt.map((r) => r.gets), reference: true },
    { ...againstGets, engine: ENGINE.siltGetMany, runs: getManyRuns, ratioTo: ENGINE.siltGets },
  ];
}

// ---- 2: batches of puts and deletes ----

/** One batch as both engines take it: string keys and values. */
type MixedBatch = Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }>;

/** Batches of 800 puts of new keys and 200 deletes of keys the batch before put. */
function mixedBatches(data: KeyValueDataset): MixedBatch[] {
  const puts = BATCH - BATCH_DELETES;
  const batches: MixedBatch[] = [];
  for (let start = 0; start + puts <= data.keys.length && batches.length * BATCH < KEYS; start += puts) {
    const operations: MixedBatch = [];
    for (let i = start; i < start + puts; i++) operations.push({ type: 'put', key: data.keys[i]!, value: data.values[i]! });
    for (let i = 0; i < BATCH_DELETES && start > 0; i++) operations.push({ type: 'del', key: data.keys[start - puts + i * 4]! });
    batches.push(operations);
  }
  return batches;
}

async function siltBatches(context: BenchContext, batches: MixedBatch[]): Promise<number> {
  const index = await Index.open(context.scratch('silt-batch'), { valueEncoding: 'utf8' });
  try {
    const operations = batches.reduce((sum, batch) => sum + batch.length, 0);
    return await opsPerSecond(operations, async () => {
      for (const batch of batches) await index.batch(batch);
    });
  } finally {
    await index.close();
  }
}

async function classicBatches(context: BenchContext, batches: MixedBatch[]): Promise<number> {
  const db = new ClassicLevel<string, string>(join(context.scratch('classic-batch'), 'db'));
  await db.open();
  try {
    const operations = batches.reduce((sum, batch) => sum + batch.length, 0);
    return await opsPerSecond(operations, async () => {
      for (const batch of batches) await db.batch(batch);
    });
  } finally {
    await db.close();
  }
}

async function batchRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const batches = mixedBatches(data);
  const runs = await interleavedRounds(context.rounds, {
    silt: () => siltBatches(context, batches),
    classic: () => classicBatches(context, batches),
  });
  const row = { workload: WORKLOAD.batch, unit: 'ops/s' };
  return [
    { ...row, engine: ENGINE.classicBatch, durability: DURABILITY.classic, runs: runs.classic },
    { ...row, engine: ENGINE.siltBatch, durability: DURABILITY.silt, runs: runs.silt, ratioTo: ENGINE.classicBatch },
  ];
}

// ---- 3: JSON values ----

interface User {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly score: number;
  readonly active: boolean;
  readonly tags: readonly string[];
}

function usersOf(data: KeyValueDataset): User[] {
  const random = new SeededRandom(17);
  return data.keys.map((key, id) => ({
    id,
    name: `user ${key.slice(0, 8)}`,
    email: `${key.slice(0, 10).toLowerCase()}@example.com`,
    score: Math.floor(random.next() * 1e6) / 100,
    active: random.chance(0.5),
    tags: ['tag-a', 'tag-b', 'tag-c'].slice(0, random.intBetween(0, 3)),
  }));
}

interface JsonRound {
  readonly load: number;
  readonly get: number;
}

/** Every key read in the shared order; each value must be the object of its key. */
function checkedUserPass(data: KeyValueDataset, ids: ReadonlyMap<string, number>, get: (key: string) => User | undefined): () => void {
  return () => {
    for (const key of data.lookups) {
      if (get(key)?.id !== ids.get(key)) throw new Error(`wrong or lost value for ${key}`);
    }
  };
}

async function siltJson(
  context: BenchContext,
  data: KeyValueDataset,
  users: readonly User[],
  ids: ReadonlyMap<string, number>,
): Promise<JsonRound> {
  const index = await Index.open<User>(context.scratch('silt-json'), { valueEncoding: 'json' });
  try {
    const load = await opsPerSecond(KEYS, async () => {
      for (let start = 0; start < KEYS; start += BATCH) {
        const pairs: Array<[string, User]> = [];
        for (let i = start; i < Math.min(KEYS, start + BATCH); i++) pairs.push([data.keys[i]!, users[i]!]);
        await index.mset(pairs);
      }
      await index.flush();
    });
    await index.mergesIdle();
    const pass = checkedUserPass(data, ids, (key) => index.get(key));
    pass();
    return { load, get: await opsPerSecond(KEYS, pass) };
  } finally {
    await index.close();
  }
}

async function lmdbJson(
  context: BenchContext,
  data: KeyValueDataset,
  users: readonly User[],
  ids: ReadonlyMap<string, number>,
): Promise<JsonRound> {
  const db = openLmdb<User, string>({ path: join(context.scratch('lmdb-json'), 'db') });
  try {
    const load = await opsPerSecond(KEYS, async () => {
      for (let start = 0; start < KEYS; start += BATCH) {
        await db.transaction(() => {
          for (let i = start; i < Math.min(KEYS, start + BATCH); i++) db.putSync(data.keys[i]!, users[i]!);
        });
      }
      await db.flushed;
    });
    const pass = checkedUserPass(data, ids, (key) => db.get(key));
    pass();
    return { load, get: await opsPerSecond(KEYS, pass) };
  } finally {
    await db.close();
  }
}

async function jsonRows(context: BenchContext, data: KeyValueDataset): Promise<BenchRow[]> {
  const users = usersOf(data);
  const ids = new Map(data.keys.map((key, i) => [key, i]));
  const runs = await interleavedRounds(context.rounds, {
    silt: () => siltJson(context, data, users, ids),
    lmdb: () => lmdbJson(context, data, users, ids),
  });
  return [
    {
      workload: WORKLOAD.jsonLoad,
      engine: ENGINE.lmdbJson,
      durability: DURABILITY.lmdb,
      unit: 'keys/s',
      runs: runs.lmdb.map((r) => r.load),
    },
    {
      workload: WORKLOAD.jsonLoad,
      engine: ENGINE.siltJsonLoad,
      durability: `${DURABILITY.silt}; flush() (segment fsynced) timed`,
      unit: 'keys/s',
      runs: runs.silt.map((r) => r.load),
      ratioTo: ENGINE.lmdbJson,
    },
    { workload: WORKLOAD.jsonGet, engine: ENGINE.lmdbJson, durability: DURABILITY.read, unit: 'gets/s', runs: runs.lmdb.map((r) => r.get) },
    {
      workload: WORKLOAD.jsonGet,
      engine: ENGINE.siltJson,
      durability: DURABILITY.read,
      unit: 'gets/s',
      runs: runs.silt.map((r) => r.get),
      ratioTo: ENGINE.lmdbJson,
    },
  ];
}

export const suite: BenchSuite = {
  name: 'api',
  async run(context) {
    const data = makeKeyValueDataset({ count: KEYS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, batchSize: BATCH, seed: 2026 });
    context.log(`${count(KEYS)} keys`);
    return [...(await getManyRows(context, data)), ...(await batchRows(context, data)), ...(await jsonRows(context, data))];
  },
};
