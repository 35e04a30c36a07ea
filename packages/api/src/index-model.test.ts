import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { CrashSimFileSystem } from '@silt/fs';
import { Index } from './index-handle.js';
import { tempDir } from '@silt/test-support';

/** The real system under test: an index that commands may close and reopen. */
interface Real {
  index: Index;
  readonly dir: string;
  readonly sim: CrashSimFileSystem;
}
type Model = Map<string, string>;

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '\u{1F600}'), minLength: 1, maxLength: 4 });
const valueArb = fc.string({ maxLength: 6 });

function sortedModel(model: Model): Array<[string, string]> {
  return [...model].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** After every command the index must read exactly like the Map. */
function checkReads(model: Model, real: Real, probe: string): void {
  const expected = sortedModel(model);
  assert.deepEqual([...real.index.range()], expected);
  assert.deepEqual([...real.index.range({ reverse: true })], [...expected].reverse());
  assert.equal(real.index.get(probe), model.get(probe));
  const prefix = [...probe][0]!;
  assert.deepEqual(
    [...real.index.range({ prefix })],
    expected.filter(([key]) => key.startsWith(prefix)),
  );
}

class SetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: string,
    readonly value: string,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.set(this.key, this.value);
    model.set(this.key, this.value);
    checkReads(model, real, this.key);
  }
  toString(): string {
    return `set(${JSON.stringify(this.key)}, ${JSON.stringify(this.value)})`;
  }
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.delete(this.key);
    model.delete(this.key);
    checkReads(model, real, this.key);
  }
  toString(): string {
    return `delete(${JSON.stringify(this.key)})`;
  }
}

class MsetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pairs: ReadonlyArray<[string, string]>) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.mset(this.pairs);
    for (const [key, value] of this.pairs) model.set(key, value);
    checkReads(model, real, this.pairs[0]![0]);
  }
  toString(): string {
    return `mset(${JSON.stringify(this.pairs)})`;
  }
}

class FlushCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.flush();
    checkReads(model, real, 'a');
  }
  toString(): string {
    return 'flush()';
  }
}

class MergeCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly maxSegments: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.forceMerge(this.maxSegments);
    assert.ok(real.index.stats().segments.length <= this.maxSegments);
    checkReads(model, real, 'a');
  }
  toString(): string {
    return `forceMerge(${this.maxSegments})`;
  }
}

class ReopenCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await real.index.close();
    real.index = await Index.open(real.dir, { fs: real.sim, refreshIntervalMs: 60_000 });
    checkReads(model, real, 'a');
  }
  toString(): string {
    return 'reopen()';
  }
}

const commands = [
  fc.tuple(keyArb, valueArb).map(([key, value]) => new SetCommand(key, value)),
  keyArb.map((key) => new DeleteCommand(key)),
  fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 4 }).map((pairs) => new MsetCommand(pairs)),
  fc.constant(new FlushCommand()),
  fc.integer({ min: 1, max: 3 }).map((maxSegments) => new MergeCommand(maxSegments)),
  fc.constant(new ReopenCommand()),
];

test('the index reads like a Map under any sequence of set, delete, mset, flush, merge and reopen', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (sequence) => {
      // Builds and merges run on this thread through the simulated file system (no crash is
      // simulated here), so a run costs milliseconds rather than a worker thread's start-up.
      // Automatic merges stay on (the default policy merges small segments early) beside forceMerge.
      const dir = join(tempDir(`model-${run++}`), 'idx');
      const sim = new CrashSimFileSystem({ seed: run });
      const real: Real = { index: await Index.open(dir, { fs: sim, refreshIntervalMs: 60_000 }), dir, sim };
      try {
        await fc.asyncModelRun(() => ({ model: new Map<string, string>(), real }), sequence);
      } finally {
        await real.index.close();
      }
    }),
    { numRuns: process.env.SOAK === '1' ? 500 : 60 },
  );
});
