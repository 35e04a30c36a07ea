import { InterruptedError, ExitCode } from './errors.js';

const HANDLED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Ctrl-C and SIGTERM for a running command. The first signal asks the
 * command to stop cleanly (close readers, close the index: what was
 * acknowledged stays); the second one quits at once, for a user who will
 * not wait for a flush.
 */
export class Interrupts {
  private readonly controller = new AbortController();
  private received: NodeJS.Signals | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => this.onSignal(signal);

  constructor(private readonly onFirst: (signal: NodeJS.Signals) => void = () => undefined) {
    for (const signal of HANDLED) process.on(signal, this.handler);
  }

  /** Aborted at the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Resolves at the first signal (never rejects): for racing long waits such as a force-merge. */
  readonly whenInterrupted: Promise<NodeJS.Signals> = new Promise((resolve) => {
    this.controller.signal.addEventListener('abort', () => resolve(this.received ?? 'SIGINT'), { once: true });
  });

  /** Throws InterruptedError, saying what was left done, once a signal came. */
  throwIfInterrupted(detail: string): void {
    if (this.received !== undefined) throw new InterruptedError(this.received, detail);
  }

  /** The exit code for the signal received: 130 for SIGINT, 143 for SIGTERM. */
  exitCode(signal: NodeJS.Signals | undefined = this.received): number {
    return signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
  }

  dispose(): void {
    for (const signal of HANDLED) process.off(signal, this.handler);
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.received !== undefined) process.exit(this.exitCode(signal));
    this.received = signal;
    this.onFirst(signal);
    this.controller.abort(signal);
  }
}

/**
 * Waits for `work` unless the signal comes first (false). A force-merge
 * cannot be cancelled from outside: closing the index aborts its merges,
 * and what `work` then rejects with is of no interest.
 */
export async function unlessAborted(work: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    work.catch(() => undefined);
  }
}
