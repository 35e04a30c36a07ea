import { z } from 'zod';

/**
 * What the parent tells feed-subscriber-child.js (one JSON argument). Where
 * to start comes later, on stdin (`since <n>` or `now`), so that a child can
 * be started ahead, its modules loaded, and subscribe the moment it is told.
 */
const subscriberConfigSchema = z.strictObject({
  dir: z.string().min(1),
  prefix: z.string().optional(),
});

export type SubscriberConfig = z.infer<typeof subscriberConfigSchema>;

export function parseSubscriberConfig(argument: string | undefined): SubscriberConfig {
  return subscriberConfigSchema.parse(JSON.parse(argument ?? 'null'));
}

/** A change as the child printed it: `value` undefined for a delete. */
export interface ObservedChange {
  readonly sequence: number;
  readonly key: string;
  readonly value: string | undefined;
}

/** One subscription of a child: where it started, what it yielded, and the ChangesTooOldError that ended it, if one did. */
export interface ObservedSubscription {
  readonly start: number;
  readonly changes: ObservedChange[];
  tooOld: { readonly since: number; readonly oldest: number } | undefined;
}

/** What the parent learned from a subscriber child's stdout (see feed-subscriber-child.ts for the lines). */
export class SubscriberOutput {
  readonly subscriptions: ObservedSubscription[] = [];
  private loadedSeen = false;
  private reportedPosition = -1;
  private partial = '';

  /** The child loaded its modules and waits to be told where to start. */
  get loaded(): boolean {
    return this.loadedSeen;
  }

  /** Every change at or below this was printed; -1 before the first subscription. */
  get position(): number {
    const last = this.subscriptions.at(-1);
    if (last === undefined) return -1;
    return Math.max(this.reportedPosition, last.changes.at(-1)?.sequence ?? last.start);
  }

  get current(): ObservedSubscription | undefined {
    return this.subscriptions.at(-1);
  }

  /** Feeds a chunk of stdout; only whole lines count (a kill may cut the last one short). */
  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.apply(line);
  }

  private apply(line: string): void {
    const [tag = '', first = '', ...rest] = line.split(' ');
    if (tag === 'loaded') {
      this.loadedSeen = true;
      return;
    }
    const number = Number(first);
    if (!Number.isSafeInteger(number)) throw new Error(`unexpected subscriber output: ${JSON.stringify(line)}`);
    const current = this.subscriptions.at(-1);
    if (tag === 'ready') {
      this.subscriptions.push({ start: number, changes: [], tooOld: undefined });
      this.reportedPosition = number;
    } else if (tag === 'c' && current !== undefined) {
      const [key, value] = JSON.parse(rest.join(' ')) as [string, string?];
      current.changes.push({ sequence: number, key, value });
    } else if (tag === 'p' && current !== undefined) {
      this.reportedPosition = number;
    } else if (tag === 'old' && current !== undefined) {
      current.tooOld = { since: number, oldest: Number(rest[0]) };
    } else {
      throw new Error(`unexpected subscriber output: ${JSON.stringify(line)}`);
    }
  }
}
