import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { contentsOf, lostWrites, readBackThroughHttp } from './acknowledged-writes.js';
import { prepareExampleApp } from './example-app.js';
import { describeFailures, FailoverWindows, type FleetEvent } from './failover-windows.js';
import { exitsPerEvent, fleetOnline, freePort, moreAcknowledged, type LogMark } from './fleet-state.js';
import { errorCodeOf, httpRequest } from './http-request.js';
import { LoadGenerator, type LoadOptions } from './load-generator.js';
import { Pm2Daemon } from './pm2-daemon.js';
import { waitFor } from './wait-for.js';

/*
 * examples/pm2/ecosystem.fork-writer.config.cjs as a user runs it: one
 * fork-mode writer app (role 'writer') takes the writes on its port, and a
 * cluster of four reader instances (role 'reader') serves GETs on another.
 * Writes sent to the writer are read back through the readers; a PUT to a
 * reader is refused with SILT_READ_ONLY and writes nothing; `pm2 restart`
 * of the writer under load, and then `pm2 kill`, lose no acknowledged write.
 */

const WRITER = 'silt-writer';
const READERS = 'silt-readers';
const READER_INSTANCES = 4;
const ACKS_BETWEEN_EVENTS = 300;
const REFUSED_PUTS = 8;

function loadOptions(writerPort: number, readerPort: number, keyPrefix: string): LoadOptions {
  return { putPort: writerPort, getPort: readerPort, concurrency: 8, keyPrefix, maxRequests: 200_000, maxDurationMs: 240_000 };
}

test(
  `a fork-mode writer and ${READER_INSTANCES} reader instances: reads through the readers see every acknowledged write, a reader never writes, and pm2 restart of the writer and pm2 kill lose no acknowledged write`,
  { timeout: 300_000 },
  async (t) => {
    const app = prepareExampleApp('fork');
    const daemon = new Pm2Daemon(join(app.directory, '..', 'pm2-home'));
    const writerPort = await freePort();
    const readerPort = await freePort();
    const env = { SILT_INDEX_DIR: app.indexDirectory, WRITER_PORT: String(writerPort), READER_PORT: String(readerPort) };
    const windows = new FailoverWindows();
    const load = new LoadGenerator(loadOptions(writerPort, readerPort, 'fork'));
    const loadAtKill = new LoadGenerator(loadOptions(writerPort, readerPort, 'at-kill'));
    const refusedKeys: string[] = [];
    let fleetLog: string;
    let appErrors: string[];
    const logMarks: LogMark[] = [{ event: 'start', offset: 0 }];
    const begin = (name: string): FleetEvent => {
      logMarks.push({ event: name, offset: daemon.log().length });
      return windows.begin(name);
    };
    try {
      await daemon.run(['start', app.ecosystemFile('ecosystem.fork-writer.config.cjs')], env);
      let [writer] = await fleetOnline(daemon, WRITER, 1);
      const readers = await fleetOnline(daemon, READERS, READER_INSTANCES);

      // Every reader instance says it is a reader; a new connection each time, so pm2 spreads them over the instances.
      const fresh = new Agent({ keepAlive: false });
      const readerPids = new Set<number>();
      await waitFor(
        `all ${READER_INSTANCES} reader instances answering GET /role`,
        async () => {
          const answer = await httpRequest(fresh, readerPort, 'GET', '/role');
          const { pid, role } = JSON.parse(answer.body) as { pid: number; role: string };
          assert.equal(role, 'reader', `instance ${pid} of ${READERS} is a reader`);
          readerPids.add(pid);
          return readerPids.size === READER_INSTANCES;
        },
        () => `answered: ${[...readerPids].join(', ')}`,
      );
      assert.deepEqual(new Set(readers.map((reader) => reader.pid)), readerPids);
      const writerRole = JSON.parse((await httpRequest(fresh, writerPort, 'GET', '/role')).body) as { pid: number; role: string };
      assert.deepEqual(writerRole, { pid: writer!.pid, role: 'writer' });

      // A reader never writes: the PUT is refused with ReadOnlyError's code.
      for (let n = 0; n < REFUSED_PUTS; n++) {
        const key = `refused-${n}`;
        refusedKeys.push(key);
        const answer = await httpRequest(fresh, readerPort, 'PUT', `/keys/${key}`, 'never written');
        assert.deepEqual([answer.status, errorCodeOf(answer)], [405, 'SILT_READ_ONLY'], `PUT ${key} to a reader`);
      }
      fresh.destroy();

      load.start();
      await moreAcknowledged(load, ACKS_BETWEEN_EVENTS);
      // Under load, the readers catch up with every write acknowledged so far.
      await readBackThroughHttp(readerPort, new Map(load.acknowledged));

      const restart = begin(`pm2 restart ${WRITER}`);
      await daemon.run(['restart', WRITER], env);
      [writer] = await fleetOnline(daemon, WRITER, 1, new Set([writer!.pid]));
      windows.complete(restart);
      await waitFor('a write acknowledged after the restart', () => load.acknowledgedSince(restart.completedAt!));
      await moreAcknowledged(load, ACKS_BETWEEN_EVENTS);
      await load.stop();
      await readBackThroughHttp(readerPort, load.acknowledged);

      loadAtKill.start();
      await moreAcknowledged(loadAtKill, ACKS_BETWEEN_EVENTS);
      const kill = begin('pm2 kill');
      await daemon.kill();
      windows.complete(kill);
      await loadAtKill.stop();
    } finally {
      await load.stop();
      await loadAtKill.stop();
      fleetLog = daemon.log();
      appErrors = daemon.appErrors();
      await daemon.kill();
    }

    const contents = await contentsOf(app.indexDirectory);
    const records = [...load.records, ...loadAtKill.records];
    const { perEvent, outside } = windows.attribute(records, (key) => contents.has(key));
    t.diagnostic(`${records.length} requests, ${load.acknowledged.size + loadAtKill.acknowledged.size} writes acknowledged`);
    for (const failures of perEvent) t.diagnostic(describeFailures(failures));
    t.diagnostic(`GETs of an acknowledged key answered 404 by a reader not caught up yet: ${load.staleReads + loadAtKill.staleReads}`);
    for (const app of [WRITER, READERS]) {
      for (const exits of exitsPerEvent(fleetLog, app, logMarks)) t.diagnostic(`${app} processes that ended in ${exits}`);
    }
    for (const line of appErrors.slice(0, 10)) t.diagnostic(`stderr ${line}`);

    const lost = [...lostWrites(load.acknowledged, contents), ...lostWrites(loadAtKill.acknowledged, contents)];
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged writes lost`);
    assert.deepEqual(
      refusedKeys.filter((key) => contents.has(key)),
      [],
      'no PUT a reader refused was written',
    );
    assert.deepEqual([...load.wrongReads, ...loadAtKill.wrongReads], [], 'no GET returned another value than the acknowledged one');
    const [restartFailures] = perEvent;
    assert.equal(restartFailures!.failedGets, 0, 'the readers served every GET while the writer restarted');
    assert.deepEqual(
      outside.map((record) => `${record.kind} ${record.failure} at ${record.startedAt.toFixed(0)}–${record.endedAt.toFixed(0)} ms`),
      [],
      'no request failed outside a failover window',
    );
  },
);
