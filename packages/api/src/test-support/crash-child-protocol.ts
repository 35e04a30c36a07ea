import { z } from 'zod';

/** What the parent tells crash-writer-child.js (one JSON argument). */
const childConfigSchema = z.strictObject({
  dir: z.string().min(1),
  seed: z.number().int(),
  firstId: z.number().int().min(1),
  durability: z.enum(['fsync', 'write']),
  refreshIntervalMs: z.number().int().min(1),
  memtableBytes: z.number().int().min(1024),
  walFileBytes: z.number().int().min(1024),
  /** The merge policy's run length (2 merges as soon as two small segments exist); default the index's. */
  minRunLength: z.number().int().min(2).optional(),
  /** Count I/O steps (see stepCountingFileSystem) and, if not 0, SIGKILL itself just before this one. */
  killAtStep: z.number().int().min(0).optional(),
  /** A fixed workload: stop issuing once this id is issued, flush, print `done`, and wait to be killed. */
  lastId: z.number().int().min(1).optional(),
});

export type ChildConfig = z.infer<typeof childConfigSchema>;

export function parseChildConfig(argument: string | undefined): ChildConfig {
  return childConfigSchema.parse(JSON.parse(argument ?? 'null'));
}

/** The mutable state behind `ChildProgress`'s getters: only `feed` changes it. */
interface ProgressSeen {
  ready: boolean;
  lastIssued: number;
  maxAcked: number;
  acked: number;
  flushes: number;
  merges: number;
  doneAfterSteps: number | undefined;
  killedBefore: string | undefined;
}

/** What the parent learned from a child's stdout (see crash-writer-child.ts for the lines). */
export class ChildProgress {
  private readonly seen: ProgressSeen = {
    ready: false,
    lastIssued: 0,
    maxAcked: 0,
    acked: 0,
    flushes: 0,
    merges: 0,
    doneAfterSteps: undefined,
    killedBefore: undefined,
  };
  private partial = '';

  get ready(): boolean {
    return this.seen.ready;
  }

  /** Highest id the child started; the index may hold no operation past it. */
  get lastIssued(): number {
    return this.seen.lastIssued;
  }

  /** Highest id acknowledged (0 when none). */
  get maxAcked(): number {
    return this.seen.maxAcked;
  }

  get acked(): number {
    return this.seen.acked;
  }

  get flushes(): number {
    return this.seen.flushes;
  }

  get merges(): number {
    return this.seen.merges;
  }

  /** The I/O steps a fixed workload took, once it is done. */
  get doneAfterSteps(): number | undefined {
    return this.seen.doneAfterSteps;
  }

  /** What the child was about to do when it killed itself at an I/O step. */
  get killedBefore(): string | undefined {
    return this.seen.killedBefore;
  }

  /** Feeds a chunk of stdout; only whole lines count (a kill may cut the last one short). */
  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.apply(line);
  }

  private apply(line: string): void {
    const [tag, first, ...rest] = line.split(' ');
    const id = Number(first);
    if (!Number.isSafeInteger(id)) throw new Error(`unexpected child output: ${JSON.stringify(line)}`);
    switch (tag) {
      case 'ready':
        this.seen.ready = true;
        return;
      case 'i':
        this.seen.lastIssued = id;
        return;
      case 'a':
        if (id > this.seen.lastIssued) throw new Error(`the child acknowledged ${id} before issuing it`);
        this.seen.maxAcked = Math.max(this.seen.maxAcked, id);
        this.seen.acked++;
        return;
      case 'f':
        this.seen.flushes++;
        return;
      case 'm':
        this.seen.merges++;
        return;
      case 'done':
        this.seen.doneAfterSteps = id;
        return;
      case 'k':
        this.seen.killedBefore = rest.join(' ');
        return;
      default:
        throw new Error(`unexpected child output: ${JSON.stringify(line)}`);
    }
  }
}
