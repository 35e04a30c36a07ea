import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { superviseIndex } from './supervised-index.js';
import { writerStats } from './test-support/writer-stats.js';

const CHILD = fileURLToPath(new URL('./test-support/supervised-child.js', import.meta.url));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`superviseIndex says 'ready' to the supervisor once the index is open, and at ${signal} runs beforeClose, closes the index cleanly and exits 0`, async () => {
    const dir = join(tempDir(`supervised-${signal}`), 'idx');
    const child = fork(CHILD, [dir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const [message] = (await once(child, 'message')) as [unknown];
    assert.equal(message, 'ready');
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    const index = await Index.open(dir, { role: 'writer' });
    try {
      assert.equal(index.get('before-ready'), 'yes');
      assert.equal(index.get('before-close'), 'yes');
      assert.equal(writerStats(index).recovery.replayedOperations, 0, 'the close flushed: nothing left to replay');
    } finally {
      await index.close();
    }
  });
}

test('superviseIndex refuses bad options with a ValidationError and installs nothing', () => {
  const listeners = process.listenerCount('SIGINT');
  const index = { close: () => Promise.resolve() };
  assert.throws(() => superviseIndex(index, { closeTimeoutMs: -1 }), ValidationError);
  assert.throws(() => superviseIndex(index, { signals: ['SIGKILL'] } as never), ValidationError);
  assert.throws(() => superviseIndex(index, { beforeClose: 'stop the server' } as never), ValidationError);
  assert.equal(process.listenerCount('SIGINT'), listeners);
});
