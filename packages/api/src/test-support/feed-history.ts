import { loggedWritesOf, operationOf } from './crash-workload.js';

/** What one sequence number of the workload's history did: `value` undefined for a delete. */
export interface HistoryEntry {
  readonly key: string;
  readonly value: string | undefined;
}

/**
 * The crash workload's history by sequence number, as the writer's log
 * numbers it: operations 1, 2, 3, ... in order, each taking one sequence
 * number per key it writes (an mset one per pair, in order; a clear one per
 * live key it deletes). Operations a
 * kill lost took numbers that the next writer handed out again, so the
 * history of a directory is that of operations 1..n, where n is what the
 * last recovery kept.
 */
export class WorkloadHistory {
  private readonly entries: HistoryEntry[] = [];
  /** The last sequence number of operation i + 1. */
  private readonly operationEnds: number[] = [];
  /** The live keys after the operations counted so far (what a clear finds). */
  private readonly live = new Map<string, string>();

  constructor(private readonly seed: number) {}

  /** What sequence number `sequence` did, or undefined past the operations counted so far. */
  at(sequence: number): HistoryEntry | undefined {
    return this.entries[sequence - 1];
  }

  /** The last sequence number of operations 1..n. */
  lastSequenceOf(n: number): number {
    this.extendTo(n);
    return n === 0 ? 0 : this.operationEnds[n - 1]!;
  }

  /** The n whose operations 1..n take sequence numbers 1..lastSequence exactly; throws if none does. */
  operationsEndingAt(lastSequence: number): number {
    let n = 0;
    while (this.lastSequenceOf(n) < lastSequence) n++;
    if (this.lastSequenceOf(n) !== lastSequence) {
      throw new Error(
        `sequence ${lastSequence} falls inside operation ${n} (${this.lastSequenceOf(n - 1) + 1}..${this.lastSequenceOf(n)})`,
      );
    }
    return n;
  }

  /** The keys and values operations 1..n leave. */
  stateAfter(n: number): Map<string, string> {
    const state = new Map<string, string>();
    for (let sequence = 1; sequence <= this.lastSequenceOf(n); sequence++) {
      const { key, value } = this.at(sequence)!;
      if (value === undefined) state.delete(key);
      else state.set(key, value);
    }
    return state;
  }

  private extendTo(n: number): void {
    for (let id = this.operationEnds.length + 1; id <= n; id++) {
      for (const [key, value] of loggedWritesOf(operationOf(this.seed, id), this.live)) {
        this.entries.push({ key, value });
        if (value === undefined) this.live.delete(key);
        else this.live.set(key, value);
      }
      this.operationEnds.push(this.entries.length);
    }
  }
}
