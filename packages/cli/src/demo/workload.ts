/**
 * The demo's keys and values: `user:0000042` →
 * `{"id":42,"name":"user 42","plan":"pro","visits":317}`, written in a
 * scattered order (a stride coprime with the key count visits every id
 * once), so flushed segments overlap in key range as real ones do, and
 * merges have real work.
 */
export class DemoWorkload {
  private readonly width: number;
  private readonly stride: number;
  readonly batches: number;

  constructor(
    readonly keys: number,
    readonly batchSize: number,
  ) {
    this.width = Math.max(7, String(keys - 1).length);
    this.stride = coprimeStride(keys);
    this.batches = Math.ceil(keys / batchSize);
  }

  keyOf(id: number): string {
    return `user:${String(id).padStart(this.width, '0')}`;
  }

  valueOf(id: number): string {
    const plan = PLANS[id % PLANS.length]!;
    const visits = Math.imul(id, 2654435761) >>> 22;
    return `{"id":${id},"name":"user ${id}","plan":"${plan}","visits":${visits}}`;
  }

  /** The first key of batch `index`: the one the demo's readers time. */
  firstKeyOf(index: number): string {
    return this.keyOf((index * this.batchSize * this.stride) % this.keys);
  }

  /** The pairs of batch `index` (0-based). */
  batch(index: number): Array<[string, string]> {
    const start = index * this.batchSize;
    const end = Math.min(this.keys, start + this.batchSize);
    const pairs: Array<[string, string]> = [];
    for (let i = start; i < end; i++) {
      const id = (i * this.stride) % this.keys;
      pairs.push([this.keyOf(id), this.valueOf(id)]);
    }
    return pairs;
  }
}

const PLANS = ['free', 'pro', 'team'] as const;

/** A stride near keys × 0.618 sharing no factor with the key count. */
function coprimeStride(keys: number): number {
  if (keys <= 2) return 1;
  let stride = Math.max(1, Math.floor(keys * 0.6180339887));
  while (greatestCommonDivisor(stride, keys) !== 1) stride++;
  return stride;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
