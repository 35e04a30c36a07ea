import { MERGE_RELEASED, MERGE_RUNNING, type MergePause } from '../merge-pause.js';

/**
 * The test's side of a MergePause: pass `pause` in a merge request, wait for
 * `reached()`, inject the fault, then `release()` (or abort the merge, which
 * terminates its thread where it waits).
 */
export class MergePauseGate {
  readonly pause: MergePause;

  constructor(afterEntries: number) {
    this.pause = { afterEntries, state: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) };
  }

  /** Whether the merge has stopped at the point (and may since have been released). */
  get isReached(): boolean {
    return Atomics.load(this.pause.state, 0) !== MERGE_RUNNING;
  }

  /** Resolves once the merge stops at the point; never, if it ends before it (race it against the merge). */
  async reached(): Promise<void> {
    while (Atomics.load(this.pause.state, 0) === MERGE_RUNNING) await Atomics.waitAsync(this.pause.state, 0, MERGE_RUNNING).value;
  }

  /** True once the merge stopped at the point, false if `merging` settled first. */
  reachedBefore(merging: Promise<unknown>): Promise<boolean> {
    const settled = merging.then(
      () => false,
      () => false,
    );
    return Promise.race([this.reached().then(() => true), settled]);
  }

  release(): void {
    Atomics.store(this.pause.state, 0, MERGE_RELEASED);
    Atomics.notify(this.pause.state, 0);
  }
}
