import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NodeFileSystem, nodeFileSystem as fs } from './node-file-system.js';
import { fileMappingSupport } from './file-mapping.js';
import { isNotFound, errnoOf } from './errors.js';
import { tempDir } from '@silt/test-support';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

test('positioned writes and reads land where they are asked to', () => {
  const path = join(tempDir('rw'), 'a');
  const handle = fs.open(path, 'createNew');
  handle.write(bytes('hello world'), 0);
  handle.write(bytes('WORLD'), 6);
  const out = new Uint8Array(5);
  assert.equal(handle.read(out, 6), 5);
  assert.equal(text(out), 'WORLD');
  assert.equal(handle.size(), 11);
  handle.close();
  assert.equal(text(fs.readFile(path)), 'hello WORLD');
});

test('a read past the end returns only the bytes that exist', () => {
  const path = join(tempDir('short'), 'a');
  const handle = fs.open(path, 'createNew');
  handle.write(bytes('abc'), 0);
  const out = new Uint8Array(10);
  assert.equal(handle.read(out, 1), 2);
  assert.equal(handle.read(out, 3), 0);
  handle.close();
});

test('createNew refuses to clobber an existing file', () => {
  const path = join(tempDir('exists'), 'a');
  fs.open(path, 'createNew').close();
  assert.throws(
    () => fs.open(path, 'createNew'),
    (error) => errnoOf(error) === 'EEXIST',
  );
});

test('createOrTruncate empties an existing file and readWrite keeps it', () => {
  const path = join(tempDir('trunc'), 'a');
  const first = fs.open(path, 'createNew');
  first.write(bytes('12345'), 0);
  first.close();
  const again = fs.open(path, 'readWrite');
  assert.equal(again.size(), 5);
  again.close();
  const emptied = fs.open(path, 'createOrTruncate');
  assert.equal(emptied.size(), 0);
  emptied.close();
});

test('truncate shortens a file', () => {
  const path = join(tempDir('cut'), 'a');
  const handle = fs.open(path, 'createNew');
  handle.write(bytes('0123456789'), 0);
  handle.truncate(4);
  assert.equal(handle.size(), 4);
  handle.close();
});

test('list returns names in byte order and rename/unlink change it', async () => {
  const dir = tempDir('list');
  for (const name of ['b', 'a', 'C', '10']) fs.open(join(dir, name), 'createNew').close();
  assert.deepEqual(fs.list(dir), ['10', 'C', 'a', 'b']);
  fs.rename(join(dir, 'a'), join(dir, 'z'));
  fs.unlink(join(dir, 'b'));
  await fs.syncDirectory(dir);
  assert.deepEqual(fs.list(dir), ['10', 'C', 'z']);
});

test('stat and exists describe files and directories; a missing file is ENOENT', () => {
  const dir = tempDir('stat');
  fs.mkdir(join(dir, 'x', 'y'));
  assert.ok(fs.stat(join(dir, 'x', 'y')).isDirectory);
  assert.ok(fs.exists(join(dir, 'x')));
  assert.equal(fs.exists(join(dir, 'nope')), false);
  assert.throws(() => fs.stat(join(dir, 'nope')), isNotFound);
});

test('fsync and fdatasync complete on a real file', async () => {
  const path = join(tempDir('sync'), 'a');
  const handle = fs.open(path, 'createNew');
  handle.write(bytes('durable'), 0);
  await handle.datasync();
  await handle.sync();
  handle.close();
  handle.close(); // closing twice is harmless
});

test('a mapped file reads as the file does, and this workspace can map files', () => {
  assert.deepEqual(fileMappingSupport(), { available: true });
  const path = join(tempDir('map'), 'a');
  const handle = fs.open(path, 'createNew');
  handle.write(bytes('mapped, not copied'), 0);
  handle.close();
  const mapped = new NodeFileSystem().mapFile(path);
  assert.ok(mapped !== undefined);
  assert.equal(text(mapped), 'mapped, not copied');
  assert.throws(
    () => new NodeFileSystem().mapFile(join(tempDir('map-missing'), 'none')),
    (error) => isNotFound(error),
  );
});

test('reading a file through a handle leaves its access time alone', (t) => {
  if (process.platform !== 'linux') return t.skip('O_NOATIME is Linux only');
  const path = join(tempDir('atime'), 'a');
  writeFileSync(path, 'read me');
  // An access time older than the modification time: relatime would move it on the next read.
  utimesSync(path, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z'));
  const before = statSync(path).atimeMs;
  const handle = fs.open(path, 'read');
  assert.equal(handle.read(new Uint8Array(7), 0), 7);
  handle.close();
  assert.equal(statSync(path).atimeMs, before);
});

test('a process that does not own a file still opens it for reading (without O_NOATIME)', (t) => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return t.skip('needs root on Linux, to read as another user');
  const dir = tempDir('not-owner');
  chmodSync(dir, 0o755);
  const path = join(dir, 'a');
  writeFileSync(path, 'anyone may read this', { mode: 0o644 });
  const module = pathToFileURL(join(import.meta.dirname, 'index.js')).href;
  const script = `import { nodeFileSystem } from ${JSON.stringify(module)};
    const handle = nodeFileSystem.open(${JSON.stringify(path)}, 'read');
    const target = new Uint8Array(20);
    process.stdout.write(String(handle.read(target, 0)) + ' ' + new TextDecoder().decode(target));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(child.stderr, '');
  assert.equal(child.stdout, '20 anyone may read this');
});

test("a handle reads through the addon's pread where it is installed, not fs.readSync", (t) => {
  if (process.platform === 'win32') return t.skip('the addon offers no pread on Windows');
  const path = join(tempDir('pread'), 'a');
  writeFileSync(path, 'eight by');
  const handle = fs.open(path, 'read');
  try {
    // fs.readSync reads into any typed array; the addon's readAt takes only a Uint8Array.
    assert.throws(() => handle.read(new Float64Array(1) as unknown as Uint8Array, 0), TypeError);
  } finally {
    handle.close();
  }
});
