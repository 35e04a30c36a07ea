/** Latency samples and their percentiles, for the demo's readers. */
export class LatencySamples {
  private readonly samples: number[] = [];
  private sorted = true;

  add(values: readonly number[]): void {
    if (values.length === 0) return;
    this.samples.push(...values);
    this.sorted = false;
  }

  get count(): number {
    return this.samples.length;
  }

  /** The nearest-rank percentile (0 < p ≤ 100), or undefined without samples. */
  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    if (!this.sorted) {
      this.samples.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.min(this.samples.length, Math.max(1, Math.ceil((p / 100) * this.samples.length)));
    return this.samples[rank - 1];
  }
}
