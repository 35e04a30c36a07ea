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

/** What the parent learned from a child's stdout (see crash-writer-child.ts for the lines). */
export class ChildProgress {
  ready = false;
  /** Highest id the child started; the index may hold no operation past it. */
  lastIssued = 0;
  /** Highest id acknowledged (0 when none). */
  maxAcked = 0;
  acked = 0;
  flushes = 0;
  merges = 0;
  /** The I/O steps a fixed workload took, once it is done. */
  doneAfterSteps: number | undefined;
  /** What the child was about to do when it killed itself at an I/O step. */
  killedBefore: string | undefined;
  private partial = '';

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
        this.ready = true;
        return;
      case 'i':
        this.lastIssued = id;
        return;
      case 'a':
        if (id > this.lastIssued) throw new Error(`the child acknowledged ${id} before issuing it`);
        this.maxAcked = Math.max(this.maxAcked, id);
        this.acked++;
        return;
      case 'f':
        this.flushes++;
        return;
      case 'm':
        this.merges++;
        return;
      case 'done':
        this.doneAfterSteps = id;
        return;
      case 'k':
        this.killedBefore = rest.join(' ');
        return;
      default:
        throw new Error(`unexpected child output: ${JSON.stringify(line)}`);
    }
  }
}
