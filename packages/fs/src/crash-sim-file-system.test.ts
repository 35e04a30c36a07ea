import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrashSimFileSystem, type CrashFate } from './crash-sim-file-system.js';
import type { FileHandle } from './file-system.js';
import { errnoOf } from './errors.js';
import { tempDir } from './test-support/temp-dir.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  return data.length >= prefix.length && prefix.every((byte, i) => data[i] === byte);
}

/** A directory whose own entry is durable, holding a synced file `log` of `synced` bytes. */
async function syncedFile(sim: CrashSimFileSystem, dir: string, synced: Uint8Array) {
  const path = join(dir, 'log');
  const handle = sim.open(path, 'createNew');
  handle.write(synced, 0);
  await handle.datasync();
  await sim.syncDirectory(dir);
  return { path, handle };
}

test('bytes synced before a crash always survive it, whatever happens to the tail', async () => {
  const fates = new Set<CrashFate>();
  for (const seed of SEEDS) {
    const dir = tempDir(`synced-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const synced = filled(1000, 7);
    const { path, handle } = await syncedFile(sim, dir, synced);
    handle.write(filled(500, 9), 1000);
    const report = sim.crash();
    for (const file of report.files) fates.add(file.fate);
    const after = readFileSync(path);
    assert.ok(startsWith(after, synced), `seed ${seed}: synced prefix damaged`);
    assert.ok(after.length >= 1000 && after.length <= 1500, `seed ${seed}: length ${after.length}`);
  }
  assert.deepEqual([...fates].sort(), ['drop', 'garble', 'keep', 'tear']);
});

test('unsynced bytes are sometimes lost, torn or garbled', async () => {
  const outcomes = new Set<string>();
  for (const seed of SEEDS) {
    const dir = tempDir(`tail-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const { path, handle } = await syncedFile(sim, dir, filled(100, 1));
    handle.write(filled(400, 2), 100);
    sim.crash();
    const tail = readFileSync(path).subarray(100);
    if (tail.length === 0) outcomes.add('dropped');
    else if (tail.length < 400 && tail.every((b) => b === 2)) outcomes.add('torn');
    else if (tail.some((b) => b !== 2)) outcomes.add('garbled');
    else outcomes.add('kept');
  }
  assert.deepEqual([...outcomes].sort(), ['dropped', 'garbled', 'kept', 'torn']);
});

test('overwrites of synced bytes can be undone by a crash', async () => {
  let undone = 0;
  for (const seed of SEEDS) {
    const dir = tempDir(`over-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const { path, handle } = await syncedFile(sim, dir, filled(100, 1));
    handle.write(filled(10, 5), 20);
    sim.crash();
    const after = readFileSync(path);
    assert.equal(after.length, 100);
    const region = after.subarray(20, 30);
    assert.ok(region.every((b) => b === 1) || region.every((b) => b === 5), `seed ${seed}: mixed overwrite`);
    if (region[0] === 1) undone++;
  }
  assert.ok(undone > 0 && undone < SEEDS.length);
});

test('a sync covers only what was written before it was called', async () => {
  const dir = tempDir('sync-window');
  const sim = new CrashSimFileSystem({ seed: 3 });
  const { path, handle } = await syncedFile(sim, dir, filled(10, 1));
  handle.write(filled(10, 2), 10);
  const syncing = handle.datasync();
  handle.write(filled(10, 3), 20);
  await syncing;
  assert.deepEqual(sim.unsyncedPaths(), [path]);
  await handle.datasync();
  assert.deepEqual(sim.unsyncedPaths(), []);
});

test('a new file whose directory was not synced can vanish, and never does once it was', async () => {
  let vanished = 0;
  for (const seed of SEEDS) {
    const dir = tempDir(`entry-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const handle = sim.open(join(dir, 'unsynced-entry'), 'createNew');
    handle.write(filled(10, 1), 0);
    await handle.sync();
    const safe = sim.open(join(dir, 'synced-entry'), 'createNew');
    safe.write(filled(10, 1), 0);
    await safe.sync();
    await sim.syncDirectory(dir);
    const late = sim.open(join(dir, 'late-entry'), 'createNew');
    await late.sync();
    sim.crash();
    assert.ok(existsSync(join(dir, 'synced-entry')), `seed ${seed}`);
    assert.deepEqual([...readFileSync(join(dir, 'synced-entry'))], [...filled(10, 1)]);
    if (!existsSync(join(dir, 'late-entry'))) vanished++;
  }
  assert.ok(vanished > 0 && vanished < SEEDS.length, `vanished ${vanished}`);
});

test('a rename without a directory sync leaves either the old or the new file, never a mix', async () => {
  const seen = new Set<string>();
  for (const seed of SEEDS) {
    const dir = tempDir(`rename-${seed}`);
    writeFileSync(join(dir, 'current'), 'old');
    const sim = new CrashSimFileSystem({ seed });
    const temp = sim.open(join(dir, 'current.tmp'), 'createNew');
    temp.write(new TextEncoder().encode('new'), 0);
    await temp.sync();
    temp.close();
    sim.rename(join(dir, 'current.tmp'), join(dir, 'current'));
    sim.crash();
    const content = readFileSync(join(dir, 'current'), 'utf8');
    assert.ok(content === 'old' || content === 'new', `seed ${seed}: ${content}`);
    seen.add(content);
  }
  assert.deepEqual([...seen].sort(), ['new', 'old']);
});

test('an unlink without a directory sync can come back with its durable bytes', async () => {
  let returned = 0;
  for (const seed of SEEDS) {
    const dir = tempDir(`unlink-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const { path, handle } = await syncedFile(sim, dir, filled(50, 4));
    handle.write(filled(50, 8), 50);
    handle.close();
    sim.unlink(path);
    sim.crash();
    if (existsSync(path)) {
      returned++;
      assert.deepEqual([...readFileSync(path)], [...filled(50, 4)]);
    }
  }
  assert.ok(returned > 0 && returned < SEEDS.length);
});

test('handles opened before a crash are dead after it', async () => {
  const dir = tempDir('dead');
  const sim = new CrashSimFileSystem({ seed: 11 });
  const { handle } = await syncedFile(sim, dir, filled(5, 1));
  sim.crash();
  assert.throws(
    () => handle.write(filled(1, 1), 5),
    (error) => errnoOf(error) === 'EBADF',
  );
  await assert.rejects(handle.datasync(), (error) => errnoOf(error) === 'EBADF');
  handle.close();
  const reopened = sim.open(join(dir, 'log'), 'readWrite');
  assert.equal(reopened.size(), 5);
  reopened.close();
});

test('the same seed and the same writes give the same crash', async () => {
  const runOnce = async (dir: string) => {
    const sim = new CrashSimFileSystem({ seed: 99 });
    const { handle } = await syncedFile(sim, dir, filled(64, 1));
    handle.write(filled(900, 2), 64);
    const report = sim.crash();
    return { fates: report.files.map((f) => [f.fate, f.length]), bytes: [...readFileSync(join(dir, 'log'))] };
  };
  assert.deepEqual(await runOnce(tempDir('det-a')), await runOnce(tempDir('det-b')));
});

test('datasyncNow() makes what was written durable exactly as datasync() does', async () => {
  type Sync = 'datasync' | 'datasyncNow';
  const sync = (handle: FileHandle, how: Sync): Promise<void> | void => (how === 'datasync' ? handle.datasync() : handle.datasyncNow());
  /** Appends and overwrites, each synced by `how`, then more that is not synced; then a crash. */
  const crashAfter = async (how: Sync, seed: number) => {
    const dir = tempDir(`${how}-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    const path = join(dir, 'log');
    const handle = sim.open(path, 'createNew');
    handle.write(filled(1000, 1), 0);
    await sync(handle, how);
    await sim.syncDirectory(dir);
    handle.write(filled(10, 2), 20);
    handle.write(filled(500, 3), 1000);
    await sync(handle, how);
    const unsyncedBefore = sim.unsyncedPaths();
    handle.write(filled(10, 4), 40);
    handle.write(filled(300, 5), 1500);
    const report = sim.crash();
    if (how === 'datasyncNow')
      assert.throws(
        () => handle.datasyncNow(),
        (error) => errnoOf(error) === 'EBADF',
        'a handle from before the crash is dead',
      );
    return { unsyncedBefore, report: report.files.map(({ fate, length }) => ({ fate, length })), bytes: readFileSync(path) };
  };
  const durable = new Uint8Array(1500).fill(1);
  durable.fill(2, 20, 30).fill(3, 1000);
  let tailLost = 0;
  for (const seed of SEEDS) {
    const now = await crashAfter('datasyncNow', seed);
    assert.deepEqual(now.unsyncedBefore, [], `seed ${seed}: datasyncNow left bytes a crash could lose`);
    assert.ok(now.bytes.length >= 1500 && now.bytes.length <= 1800, `seed ${seed}: length ${now.bytes.length}`);
    // Bytes 40..50 were overwritten after the sync: either version may survive, never a mix.
    const overwritten = now.bytes.subarray(40, 50);
    assert.ok(overwritten.every((b) => b === 1) || overwritten.every((b) => b === 4), `seed ${seed}: mixed overwrite`);
    const synced = new Uint8Array(now.bytes.subarray(0, 1500));
    synced.fill(1, 40, 50);
    assert.deepEqual(synced, durable, `seed ${seed}: bytes synced by datasyncNow were lost or damaged`);
    if (now.bytes.length === 1500) tailLost++;
    assert.deepEqual(now, await crashAfter('datasync', seed), `seed ${seed}: the crash went differently after datasync`);
  }
  assert.ok(tailLost > 0 && tailLost < SEEDS.length, `the unsynced tail was lost in ${tailLost} of ${SEEDS.length} crashes`);
});
