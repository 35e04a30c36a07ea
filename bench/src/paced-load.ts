import { setTimeout as sleep } from 'node:timers/promises';
import { generatedKey, generatedValue, probeKey, monotonicMs } from './realtime-bench-shared.js';

/**
 * A writer held to a steady rate, with probe writes among the load whose
 * acknowledgement times are kept. Every timer tick (about 1 ms) it writes
 * the writes it owes since the start, as one call of `writeTick`, so an
 * engine that gathers a turn's writes into one commit (silt's group commit,
 * one SQLite transaction) does so. A probe goes last in its tick.
 */

export interface PacedLoadOptions {
  /** Writes per second to hold. */
  readonly rate: number;
  /** How long to write after the warm-up, probing. */
  readonly durationMs: number;
  /** One probe per slot of this length; a slot that passed while the writer was stalled is skipped, not made up. */
  readonly probeEveryMs: number;
  /** Load alone before the first probe, so the first flush and merges are under way. */
  readonly warmupMs: number;
  /** Load keys are drawn from `generatedKey(0..keySpace-1)`, so flushes overwrite and merges drop older values. */
  readonly keySpace: number;
  /** Writes one tick's pairs; resolves when all of them are acknowledged. */
  writeTick(pairs: ReadonlyArray<readonly [string, string]>): Promise<void>;
}

export interface PacedLoadResult {
  /** Probes written: `probeKey(0..probes-1)`. */
  readonly probes: number;
  /** When (monotonicMs) each probe's tick was acknowledged: its promise resolved. */
  readonly probeAckedAt: number[];
  /** When each probe's tick was handed to the engine: the write call. */
  readonly probeIssuedAt: number[];
  /** Writes acknowledged, probes included. */
  readonly writes: number;
  /** Writes acknowledged per second, from the first write to the last acknowledgement. */
  readonly achievedRate: number;
}

/** At most this much of a stall is caught up in one tick, so a long pause does not turn into one huge commit. */
const MAX_CATCH_UP_MS = 50;

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const probeAckedAt: number[] = [];
  const probeIssuedAt: number[] = [];
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let issued = 0;
  let acked = 0;
  let probesIssued = 0;
  let nextProbeAt = options.warmupMs;
  let lastAckAt = 0;
  let loadKey = 0x2545f491;
  const start = monotonicMs();
  const end = options.warmupMs + options.durationMs;
  for (let elapsed = 0; elapsed < end && failure === undefined; elapsed = monotonicMs() - start) {
    const owed = Math.min(Math.floor((elapsed * options.rate) / 1000) - issued, Math.ceil((options.rate * MAX_CATCH_UP_MS) / 1000));
    const pairs: Array<readonly [string, string]> = [];
    for (let i = 0; i < owed; i++) {
      // A cheap xorshift: load keys spread over the key space without a random generator's object per call.
      loadKey ^= loadKey << 13;
      loadKey ^= loadKey >>> 17;
      loadKey ^= loadKey << 5;
      const n = (loadKey >>> 0) % options.keySpace;
      pairs.push([generatedKey(n), generatedValue(n)]);
    }
    const probe = elapsed >= nextProbeAt ? probesIssued++ : undefined;
    if (probe !== undefined) {
      pairs.push([probeKey(probe), `probe ${probe}`]);
      probeAckedAt.push(Number.NaN);
      while (nextProbeAt <= elapsed) nextProbeAt += options.probeEveryMs;
    }
    if (pairs.length > 0) {
      issued += pairs.length;
      if (probe !== undefined) probeIssuedAt[probe] = monotonicMs();
      const tick = options.writeTick(pairs).then(
        () => {
          const now = monotonicMs();
          if (probe !== undefined) probeAckedAt[probe] = now;
          acked += pairs.length;
          lastAckAt = now;
          pending.delete(tick);
        },
        (error: unknown) => {
          failure ??= error;
          pending.delete(tick);
        },
      );
      pending.add(tick);
    }
    await sleep(1);
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
  return { probes: probesIssued, probeAckedAt, probeIssuedAt, writes: acked, achievedRate: (acked * 1000) / (lastAckAt - start) };
}
