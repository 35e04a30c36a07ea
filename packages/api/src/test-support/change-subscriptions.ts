import type { Change, ChangeSubscription } from '@silt/reader';

/** The next `count` changes (by `next()`: leaving a `for await` early would end the subscription). */
export async function take(subscription: ChangeSubscription, count: number): Promise<Change[]> {
  const changes: Change[] = [];
  while (changes.length < count) {
    const next = await subscription.next();
    if (next.done === true) throw new Error(`the subscription ended after ${changes.length} of ${count} changes`);
    changes.push(next.value);
  }
  return changes;
}
