import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import { Manifest } from './manifest.js';
import { GenerationNotFoundError, StaleCommitError } from './manifest-errors.js';
import { sampleSegment } from './test-support/manifest-fixtures.js';
import { tempDir } from '@silt/test-support';

/**
 * Random sequences of commits, leases and collections against a plain
 * model of what the manifest promises: the live set of every readable
 * generation, and exactly which segments are collectable.
 */

type Command =
  | { kind: 'flush'; sequences: number }
  | { kind: 'merge'; start: number; length: number }
  | { kind: 'staleMerge' }
  | { kind: 'overlap'; index: number }
  | { kind: 'takeLease' }
  | { kind: 'moveLease'; index: number }
  | { kind: 'dropLease'; index: number }
  | { kind: 'collect' };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flush' as const), sequences: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('merge' as const), start: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'staleMerge' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('overlap' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'takeLease' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('moveLease' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropLease' as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'collect' as const }) },
);

interface ModelSegment {
  readonly id: number;
  readonly min: number;
  readonly max: number;
  readonly added: number;
  removed: number | null;
}

class Model {
  readonly segments = new Map<number, ModelSegment>();
  readonly readable = new Set<number>([0]);
  readonly leases = new Map<number, number>();
  private currentGeneration = 0;
  private walCovered = 0;

  get generation(): number {
    return this.currentGeneration;
  }

  get wal(): number {
    return this.walCovered;
  }

  liveAt(generation: number): ModelSegment[] {
    return [...this.segments.values()]
      .filter((s) => s.added <= generation && (s.removed === null || s.removed > generation))
      .sort((a, b) => a.min - b.min);
  }

  commit(add: ModelSegment[], remove: readonly number[], wal: number): void {
    this.currentGeneration += 1;
    for (const id of remove) this.segments.get(id)!.removed = this.generation;
    for (const segment of add) this.segments.set(segment.id, segment);
    this.walCovered = wal;
    this.readable.add(this.generation);
  }

  collectable(): number[] {
    const held = [...this.leases.values()];
    return [...this.segments.values()]
      .filter((s) => s.removed !== null && !held.some((g) => s.added <= g && g < s.removed!))
      .map((s) => s.id)
      .sort((a, b) => a - b);
  }

  collect(ids: readonly number[]): void {
    for (const id of ids) {
      const segment = this.segments.get(id)!;
      for (let g = segment.added; g < segment.removed!; g += 1) this.readable.delete(g);
      this.segments.delete(id);
    }
  }
}

function run(manifest: Manifest, model: Model, command: Command, removedIds: number[]): void {
  const live = model.liveAt(model.generation);
  switch (command.kind) {
    case 'flush': {
      const id = manifest.allocateSegmentId();
      const segment = { id, min: model.wal + 1, max: model.wal + command.sequences, added: model.generation + 1, removed: null };
      manifest.commit({ add: [sampleSegment(id, segment.min, segment.max)], walCoveredSequence: segment.max });
      model.commit([segment], [], segment.max);
      return;
    }
    case 'merge': {
      if (live.length === 0) return;
      const start = command.start % live.length;
      const run = live.slice(start, start + command.length);
      const id = manifest.allocateSegmentId();
      const merged = { id, min: run[0]!.min, max: run.at(-1)!.max, added: model.generation + 1, removed: null };
      const inputs = run.map((s) => s.id);
      manifest.commit({ remove: inputs, add: [sampleSegment(id, merged.min, merged.max)] });
      model.commit([merged], inputs, model.wal);
      removedIds.push(...inputs);
      return;
    }
    case 'staleMerge': {
      const gone = removedIds.at(-1);
      if (gone === undefined) return;
      const id = manifest.allocateSegmentId();
      assert.throws(() => manifest.commit({ remove: [gone], add: [sampleSegment(id, 1, 1)] }), StaleCommitError);
      return;
    }
    case 'overlap': {
      if (live.length === 0) return;
      const victim = live[command.index % live.length]!;
      const id = manifest.allocateSegmentId();
      assert.throws(
        () => manifest.commit({ add: [sampleSegment(id, victim.max, model.wal + 1)], walCoveredSequence: model.wal + 1 }),
        (error: unknown) => error instanceof ValidationError && /overlap/.test(error.message),
      );
      return;
    }
    case 'takeLease': {
      const lease = manifest.takeLease();
      assert.equal(lease.generation, model.generation);
      model.leases.set(lease.id, lease.generation);
      return;
    }
    case 'moveLease':
    case 'dropLease': {
      const ids = [...model.leases.keys()];
      if (ids.length === 0) return;
      const leaseId = ids[command.index % ids.length]!;
      if (command.kind === 'moveLease') {
        model.leases.set(leaseId, manifest.moveLease(leaseId).generation);
      } else {
        manifest.dropLease(leaseId);
        model.leases.delete(leaseId);
      }
      return;
    }
    case 'collect': {
      const ids = manifest.collectable().map((s) => s.id);
      assert.deepEqual(ids, model.collectable());
      manifest.markCollected(ids);
      model.collect(ids);
      return;
    }
  }
}

function checkAgainstModel(manifest: Manifest, model: Model): void {
  const summary = (segments: readonly { id: number; minSequence: number; maxSequence: number }[]) =>
    segments.map((s) => [s.id, s.minSequence, s.maxSequence]);
  const current = manifest.current();
  assert.equal(current.generation, model.generation);
  assert.equal(current.walCoveredSequence, model.wal);
  for (let generation = 0; generation <= model.generation; generation += 1) {
    if (model.readable.has(generation)) {
      const expected = model.liveAt(generation).map((s) => [s.id, s.min, s.max]);
      assert.deepEqual(summary(manifest.generationAt(generation).segments), expected, `generation ${generation}`);
    } else {
      assert.throws(() => manifest.generationAt(generation), GenerationNotFoundError, `generation ${generation}`);
    }
  }
}

test('random commits, leases and collections match the model of readable generations and collectable segments', () => {
  const directory = tempDir('model');
  let runIndex = 0;
  fc.assert(
    fc.property(fc.array(commandArbitrary, { minLength: 1, maxLength: 30 }), (commands) => {
      runIndex += 1;
      using manifest = Manifest.open(join(directory, `manifest-${runIndex}.sqlite`));
      const model = new Model();
      const removedIds: number[] = [];
      for (const command of commands) {
        run(manifest, model, command, removedIds);
        checkAgainstModel(manifest, model);
      }
    }),
    { numRuns: process.env.SOAK === '1' ? 500 : 40 },
  );
});
