import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@silt/test-support';
import { nodeFileSystem } from './node-file-system.js';
import { CrashSimFileSystem } from './crash-sim-file-system.js';
import { ScratchArena } from './scratch-arena.js';

test('slices taken between resets never overlap, and a reset lends the same memory again', () => {
  const arena = new ScratchArena();
  const a = arena.take(100);
  const b = arena.take(50);
  a.fill(1);
  b.fill(2);
  assert.ok(
    a.every((byte) => byte === 1),
    'b did not overwrite a',
  );
  const storage = b.buffer; // the newest storage: the first take sized it for 100 bytes, the second outgrew it
  arena.reset();
  const c = arena.take(120);
  assert.equal(c.buffer, storage, 'the storage is reused after a reset');
  assert.equal(arena.capacity, storage.byteLength);
});

test('a take beyond the storage gets new, larger storage and leaves earlier slices intact', () => {
  const arena = new ScratchArena();
  const first = arena.take(10).fill(7);
  const second = arena.take(1000).fill(9);
  assert.notEqual(second.buffer, first.buffer);
  assert.ok(first.every((byte) => byte === 7));
  assert.ok(arena.capacity >= 1000);
  arena.reset();
  assert.equal(arena.take(1000).buffer, second.buffer, 'the storage settles at the largest task');
});

test('a task that reserves its total first takes every slice from one storage, and the next task reuses it', () => {
  const arena = new ScratchArena();
  arena.reserve(1000);
  const slices = [arena.take(10), arena.take(600), arena.take(390)];
  assert.equal(new Set(slices.map((slice) => slice.buffer)).size, 1, 'no take outgrew the reserved storage');
  assert.equal(arena.capacity, 1000);
  arena.reset();
  arena.reserve(1000);
  assert.equal(arena.take(1000).buffer, slices[0]!.buffer, 'a reserve the storage already holds keeps it');
  arena.reserve(1);
  assert.ok(arena.capacity >= 2000, 'a reserve beyond the storage doubles it at least');
});

test('readFile reads what fs.readFile reads, through any FileSystem, into reused memory', () => {
  const dir = tempDir('scratch-arena');
  const big = join(dir, 'big');
  const small = join(dir, 'small');
  writeFileSync(big, Buffer.alloc(70_000, 'b'));
  writeFileSync(small, 'small file');
  const arena = new ScratchArena();
  assert.deepEqual(arena.readFile(nodeFileSystem, big), new Uint8Array(nodeFileSystem.readFile(big)));
  arena.reset();
  const again = arena.readFile(nodeFileSystem, small);
  assert.equal(Buffer.from(again).toString(), 'small file');
  assert.equal(again.length, 10);

  const simulated = new CrashSimFileSystem({ seed: 1 });
  const written = join(dir, 'through-the-simulation');
  const handle = simulated.open(written, 'createNew');
  handle.write(new TextEncoder().encode('simulated'), 0);
  handle.close();
  arena.reset();
  assert.equal(Buffer.from(arena.readFile(simulated, written)).toString(), 'simulated');
});
