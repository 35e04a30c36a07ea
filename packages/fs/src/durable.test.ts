import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrashSimFileSystem } from './crash-sim-file-system.js';
import { FaultInjectingFileSystem } from './fault-injecting-file-system.js';
import { nodeFileSystem } from './node-file-system.js';
import { makeDirectoryDurably, removeFileDurably, replaceFileAtomically, writeFileDurably, isTemporaryName } from './durable.js';
import { errnoOf } from './errors.js';
import { tempDir } from '@silt/test-support';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const SEEDS = Array.from({ length: 100 }, (_, i) => 1000 + i);

test('a file written durably survives any crash after the call resolves', async () => {
  for (const seed of SEEDS) {
    const dir = tempDir(`wfd-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    await writeFileDurably(sim, join(dir, 'seg'), encode('payload'));
    sim.crash();
    assert.equal(readFileSync(join(dir, 'seg'), 'utf8'), 'payload', `seed ${seed}`);
  }
});

test('an atomic replace leaves the new bytes after any crash once it resolves', async () => {
  for (const seed of SEEDS) {
    const dir = tempDir(`rfa-${seed}`);
    writeFileSync(join(dir, 'current'), 'old');
    const sim = new CrashSimFileSystem({ seed });
    await replaceFileAtomically(sim, join(dir, 'current'), encode('new'));
    sim.crash();
    assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'new', `seed ${seed}`);
    assert.deepEqual(readdirSync(dir).filter(isTemporaryName), []);
  }
});

test('an atomic replace that fails to sync leaves the old file and no temp file', async () => {
  const dir = tempDir('rfa-fail');
  writeFileSync(join(dir, 'current'), 'old');
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [{ operation: 'sync', nth: 1, code: 'EIO' }]);
  await assert.rejects(replaceFileAtomically(fs, join(dir, 'current'), encode('new')), (e) => errnoOf(e) === 'EIO');
  assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['current']);
});

test('writeFileDurably refuses to overwrite', async () => {
  const dir = tempDir('wfd-exists');
  writeFileSync(join(dir, 'a'), 'x');
  await assert.rejects(writeFileDurably(nodeFileSystem, join(dir, 'a'), encode('y')), (e) => errnoOf(e) === 'EEXIST');
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'x');
});

test('a durable removal stays removed after a crash, and a missing file is fine', async () => {
  for (const seed of SEEDS.slice(0, 30)) {
    const dir = tempDir(`rm-${seed}`);
    writeFileSync(join(dir, 'a'), 'x');
    const sim = new CrashSimFileSystem({ seed });
    await removeFileDurably(sim, join(dir, 'a'));
    await removeFileDurably(sim, join(dir, 'a'));
    sim.crash();
    assert.equal(existsSync(join(dir, 'a')), false);
  }
});

test('a durably made directory survives a crash', async () => {
  for (const seed of SEEDS.slice(0, 30)) {
    const dir = tempDir(`mkdir-${seed}`);
    const sim = new CrashSimFileSystem({ seed });
    await makeDirectoryDurably(sim, join(dir, 'wal'));
    sim.crash();
    assert.ok(existsSync(join(dir, 'wal')));
  }
});
