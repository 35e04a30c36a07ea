/**
 * Time as the engine sees it: the seam through which tests replace waiting
 * with stepping, as LevelDB's `Env::NowMicros` and timers do. Everything that
 * backs off, retries or runs on an interval asks a Clock, never `Date.now()`
 * or `setTimeout` directly, so a test can drive seconds of retries in
 * milliseconds and never races a background timer.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; only differences between two calls mean anything. */
  now(): number;
  /**
   * Calls `callback` once, `delayMs` from now. The returned function cancels it.
   * A pending timer never keeps the process alive (an index must not hold a
   * process open by itself).
   */
  setTimer(delayMs: number, callback: () => void): CancelTimer;
}

export type CancelTimer = () => void;

/** The real clock: monotonic time and unref'd timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface PendingTimer {
  readonly dueAt: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. `advance` runs every timer that falls
 * due, in due order, each seeing `now()` at its own due time.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<PendingTimer>();
  private created = 0;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): CancelTimer {
    const timer: PendingTimer = { dueAt: this.current + Math.max(0, delayMs), order: this.created++, callback };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running each timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (let next = this.nextDue(until); next !== undefined; next = this.nextDue(until)) {
      this.timers.delete(next);
      this.current = next.dueAt;
      next.callback();
    }
    this.current = until;
  }

  private nextDue(until: number): PendingTimer | undefined {
    let first: PendingTimer | undefined;
    for (const timer of this.timers) {
      if (timer.dueAt > until) continue;
      if (first === undefined || timer.dueAt < first.dueAt || (timer.dueAt === first.dueAt && timer.order < first.order)) first = timer;
    }
    return first;
  }
}
