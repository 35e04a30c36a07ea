import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { contentsOf, lostWrites, readBackThroughHttp } from './acknowledged-writes.js';
import { prepareExampleApp } from './example-app.js';
import { describeFailures, FailoverWindows, type FleetEvent } from './failover-windows.js';
import { exitsPerEvent, fleetOnline, freePort, moreAcknowledged, writerPid, type LogMark } from './fleet-state.js';
import { httpRequest } from './http-request.js';
import { LoadGenerator, type LoadOptions } from './load-generator.js';
import { Pm2Daemon } from './pm2-daemon.js';
import { waitFor } from './wait-for.js';

/*
 * examples/pm2/ecosystem.config.cjs as a user runs it: pm2 cluster mode,
 * four instances of app.mjs on one port and one index, each with the
 * default role. The test process sends concurrent PUTs of new keys and
 * GETs of acknowledged ones while it runs `pm2 reload`, `pm2 restart`, a
 * SIGKILL of whichever instance is the writer, and (with a second load)
 * `pm2 stop`. Every PUT answered 200 must be readable afterwards, through
 * the fleet and in the directory; requests may fail only inside an
 * event's failover window (failover-windows.ts).
 */

const APP = 'silt-app';
const INSTANCES = 4;
/** Writes acknowledged between two events: each event hits a fleet under load. */
const ACKS_BETWEEN_EVENTS = 300;

function loadOptions(port: number, keyPrefix: string): LoadOptions {
  return { putPort: port, getPort: port, concurrency: 8, keyPrefix, maxRequests: 200_000, maxDurationMs: 240_000 };
}

test(
  `cluster mode, ${INSTANCES} instances: under load through pm2 reload, pm2 restart, kill -9 of the writer and pm2 stop, no acknowledged write is lost and requests fail only in failover windows`,
  { timeout: 300_000 },
  async (t) => {
    const app = prepareExampleApp('cluster');
    const daemon = new Pm2Daemon(join(app.directory, '..', 'pm2-home'));
    const port = await freePort();
    const env = { SILT_INDEX_DIR: app.indexDirectory, PORT: String(port) };
    const windows = new FailoverWindows();
    const load = new LoadGenerator(loadOptions(port, 'cluster'));
    const loadAtStop = new LoadGenerator(loadOptions(port, 'at-stop'));
    let fleetLog: string;
    let appErrors: string[];
    const logMarks: LogMark[] = [{ event: 'start', offset: 0 }];
    const begin = (name: string): FleetEvent => {
      logMarks.push({ event: name, offset: daemon.log().length });
      return windows.begin(name);
    };
    /** Runs `what` as an event and waits, once the fleet is back, for a write sent after it to be acknowledged. */
    const underLoad = async (name: string, what: () => Promise<void>): Promise<void> => {
      const event = begin(name);
      await what();
      windows.complete(event);
      await waitFor(`a write acknowledged after ${name}`, () => load.acknowledgedSince(event.completedAt!));
      await moreAcknowledged(load, ACKS_BETWEEN_EVENTS);
    };
    try {
      await daemon.run(['start', app.ecosystemFile('ecosystem.config.cjs')], env);
      let fleet = await fleetOnline(daemon, APP, INSTANCES);
      const probe = new Agent();
      await waitFor('a first write', async () => (await httpRequest(probe, port, 'PUT', '/keys/first', 'write')).status === 200);
      probe.destroy();

      load.start();
      await moreAcknowledged(load, ACKS_BETWEEN_EVENTS);

      await underLoad('pm2 reload', async () => {
        const before = new Set(fleet.map((instance) => instance.pid));
        await daemon.run(['reload', APP], env);
        fleet = await fleetOnline(daemon, APP, INSTANCES, before);
      });

      await underLoad('pm2 restart', async () => {
        const before = new Set(fleet.map((instance) => instance.pid));
        await daemon.run(['restart', APP], env);
        fleet = await fleetOnline(daemon, APP, INSTANCES, before);
      });

      await underLoad('kill -9 of the writer', async () => {
        const writer = writerPid(app.indexDirectory);
        assert.ok(
          fleet.some((instance) => instance.pid === writer),
          `writer.pid names ${writer}, one of pm2's instances (${fleet.map((instance) => instance.pid).join(', ')})`,
        );
        process.kill(writer!, 'SIGKILL');
        // pm2 starts a process in the killed one's place; another instance took over as the writer.
        fleet = await fleetOnline(daemon, APP, INSTANCES, new Set([writer!]));
        await waitFor(
          'a live instance named in writer.pid',
          async () => {
            const now = writerPid(app.indexDirectory);
            return now !== writer && (await daemon.list()).some((instance) => instance.pid === now && instance.status === 'online');
          },
          () => `writer.pid names ${writerPid(app.indexDirectory)}`,
        );
      });

      await load.stop();
      // The fleet is quiet: every acknowledged write reads back through it.
      await readBackThroughHttp(port, load.acknowledged);

      loadAtStop.start();
      await moreAcknowledged(loadAtStop, ACKS_BETWEEN_EVENTS);
      const stop = begin('pm2 stop');
      await daemon.run(['stop', APP], env);
      windows.complete(stop);
      await loadAtStop.stop();
      await daemon.run(['delete', APP], env);
    } finally {
      await load.stop();
      await loadAtStop.stop();
      fleetLog = daemon.log();
      appErrors = daemon.appErrors();
      await daemon.kill();
    }

    const contents = await contentsOf(app.indexDirectory);
    const records = [...load.records, ...loadAtStop.records];
    const { perEvent, outside } = windows.attribute(records, (key) => contents.has(key));
    t.diagnostic(`${records.length} requests, ${load.acknowledged.size + loadAtStop.acknowledged.size} writes acknowledged`);
    for (const failures of perEvent) t.diagnostic(describeFailures(failures));
    t.diagnostic(`GETs of an acknowledged key answered 404 by an instance not caught up yet: ${load.staleReads + loadAtStop.staleReads}`);
    for (const exits of exitsPerEvent(fleetLog, APP, logMarks)) t.diagnostic(`instances that ended in ${exits}`);
    for (const line of appErrors.slice(0, 10)) t.diagnostic(`stderr ${line}`);

    const lost = [...lostWrites(load.acknowledged, contents), ...lostWrites(loadAtStop.acknowledged, contents)];
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged writes lost`);
    assert.deepEqual([...load.wrongReads, ...loadAtStop.wrongReads], [], 'no GET returned another value than the acknowledged one');
    assert.deepEqual(
      outside.map((record) => `${record.kind} ${record.failure} at ${record.startedAt.toFixed(0)}–${record.endedAt.toFixed(0)} ms`),
      [],
      'no request failed outside a failover window',
    );
  },
);
