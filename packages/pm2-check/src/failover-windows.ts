import type { RequestRecord } from './load-generator.js';

/** One thing done to the fleet under load: a pm2 command or a kill. Times are `performance.now()` milliseconds. */
export interface FleetEvent {
  readonly name: string;
  readonly startedAt: number;
  /** When the command returned and pm2 showed every instance back online (or, for stop and kill, when it returned). */
  completedAt: number | undefined;
}

/** What the failed requests of one event's window were. */
export interface EventFailures {
  readonly event: string;
  /** Milliseconds from the event's start to its window's end (Infinity: no write succeeded after it). */
  readonly windowMs: number;
  readonly failedPuts: number;
  /** Failed PUTs whose write is in the index all the same: applied, but the answer was lost. */
  readonly appliedAnyway: number;
  readonly failedGets: number;
  /** Failure reasons with their counts, e.g. `ECONNRESET ×3`. */
  readonly reasons: string;
}

/**
 * The failover window of an event: from its start to the end of the first
 * PUT that was sent after the event completed and was acknowledged. A
 * failed request belongs to a window if the two overlap: it was sent before
 * the window ended and ended after the window began. A request that failed
 * outside every window failed while nothing was being done to the fleet.
 */
export class FailoverWindows {
  readonly events: FleetEvent[] = [];

  begin(name: string): FleetEvent {
    const event: FleetEvent = { name, startedAt: performance.now(), completedAt: undefined };
    this.events.push(event);
    return event;
  }

  complete(event: FleetEvent): void {
    event.completedAt = performance.now();
  }

  /** Each event's window: [start, end]. */
  windows(records: readonly RequestRecord[]): Array<{ event: FleetEvent; start: number; end: number }> {
    return this.events.map((event) => {
      const completedAt = event.completedAt ?? Infinity;
      let end = Infinity;
      for (const record of records) {
        if (record.kind === 'put' && record.ok && record.startedAt >= completedAt && record.endedAt < end) end = record.endedAt;
      }
      return { event, start: event.startedAt, end };
    });
  }

  /**
   * The failed requests of each event's window, and those outside every
   * window. `written` tells which keys the index holds at the end.
   */
  attribute(records: readonly RequestRecord[], written: (key: string) => boolean): { perEvent: EventFailures[]; outside: RequestRecord[] } {
    const windows = this.windows(records);
    const failed = records.filter((record) => !record.ok);
    const inWindow = (record: RequestRecord, window: { start: number; end: number }): boolean =>
      record.startedAt <= window.end && record.endedAt >= window.start;
    const perEvent = windows.map((window) => {
      const mine = failed.filter((record) => inWindow(record, window));
      const reasons = new Map<string, number>();
      for (const record of mine)
        reasons.set(`${record.kind} ${record.failure}`, (reasons.get(`${record.kind} ${record.failure}`) ?? 0) + 1);
      return {
        event: window.event.name,
        windowMs: window.end - window.start,
        failedPuts: mine.filter((record) => record.kind === 'put').length,
        appliedAnyway: mine.filter((record) => record.kind === 'put' && written(record.key)).length,
        failedGets: mine.filter((record) => record.kind === 'get').length,
        reasons: [...reasons].map(([reason, count]) => `${reason} ×${count}`).join(', ') || 'none',
      };
    });
    const outside = failed.filter((record) => !windows.some((window) => inWindow(record, window)));
    return { perEvent, outside };
  }
}

/** One line per event for `t.diagnostic`. */
export function describeFailures(failures: EventFailures): string {
  const window = Number.isFinite(failures.windowMs) ? `${(failures.windowMs / 1000).toFixed(2)} s` : 'to the end of the load';
  return (
    `${failures.event}: ${failures.failedPuts} failed PUTs (${failures.appliedAnyway} of them applied all the same), ` +
    `${failures.failedGets} failed GETs in its window (${window}); ${failures.reasons}`
  );
}
