/**
 * Runs every engine once per round, taking turns, and collects each one's
 * results in round order. On a shared, noisy machine, load that comes and
 * goes then falls on all engines alike instead of on whichever ran its
 * rounds during the busy minute.
 */
export async function interleavedRounds<Engines extends Record<string, () => Promise<unknown>>>(
  count: number,
  engines: Engines,
): Promise<{ [Name in keyof Engines]: Array<Awaited<ReturnType<Engines[Name]>>> }> {
  const results = Object.fromEntries(Object.keys(engines).map((name) => [name, [] as unknown[]])) as Record<string, unknown[]>;
  for (let round = 0; round < count; round++) {
    for (const [name, run] of Object.entries(engines)) results[name]!.push(await run());
  }
  return results as { [Name in keyof Engines]: Array<Awaited<ReturnType<Engines[Name]>>> };
}
