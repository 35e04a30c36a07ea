import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { prepareExampleApp } from './example-app.js';
import { fleetOnline, freePort, writerPid } from './fleet-state.js';
import { httpRequest } from './http-request.js';
import { Pm2Daemon } from './pm2-daemon.js';
import { listeningSocketHolders } from './socket-holders.js';
import { waitFor } from './wait-for.js';

/*
 * In pm2 cluster mode every instance is a Node cluster worker, and a
 * worker's `server.listen(path)` is done by the cluster's primary, which
 * is pm2's daemon: it would bind writer.sock, accept each client's
 * connection and hand it to the writer over IPC. A connection handed to a
 * writer just SIGKILLed is then held open by the daemon forever, and the
 * client that made it waits for WELCOME forever: its writes never settle
 * (seen under load, packages/pm2-check/README.md). The writer must listen
 * itself (`exclusive: true`).
 */

test(
  'cluster mode: the writer instance listens on writer.sock itself, not through pm2 (the cluster primary)',
  { timeout: 120_000 },
  async () => {
    const app = prepareExampleApp('socket');
    const daemon = new Pm2Daemon(join(app.directory, '..', 'pm2-home'));
    const port = await freePort();
    const env = { SILT_INDEX_DIR: app.indexDirectory, PORT: String(port) };
    try {
      await daemon.run(['start', app.ecosystemFile('ecosystem.config.cjs')], env);
      await fleetOnline(daemon, 'silt-app', 4);
      const probe = new Agent();
      await waitFor('a first write', async () => (await httpRequest(probe, port, 'PUT', '/keys/first', 'write')).status === 200);
      probe.destroy();
      const writer = writerPid(app.indexDirectory)!;
      const holders = listeningSocketHolders('idx/writer.sock', [writer, daemon.pid!]);
      assert.deepEqual(holders, [writer], `writer.sock is listened on by the writer (${writer}), not pm2's daemon (${daemon.pid})`);
    } finally {
      await daemon.kill();
    }
  },
);
