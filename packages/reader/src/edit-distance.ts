/**
 * Levenshtein distance of many candidate words against one query, for
 * candidates that arrive in sorted order: consecutive keys share prefixes, so
 * the dynamic-programming rows of the shared prefix are kept and reused (the
 * trick that lets a sorted key list stand in for keyvi's automaton walk).
 */
export class SortedEditDistance {
  private readonly query: readonly number[];
  /** rows[i] is the DP row after the first i code points of the current candidate. */
  private readonly rows: Int32Array[] = [];
  private previous: readonly number[] = [];

  constructor(
    query: string,
    private readonly maxEdits: number,
  ) {
    this.query = codePoints(query);
    const first = new Int32Array(this.query.length + 1);
    for (let j = 0; j <= this.query.length; j++) first[j] = j;
    this.rows.push(first);
  }

  /**
   * The distance from the query to `candidate` if it is at most maxEdits,
   * otherwise undefined. Also undefined as soon as every extension of a
   * prefix must exceed maxEdits.
   */
  distance(candidate: string): number | undefined {
    const points = codePoints(candidate);
    let shared = 0;
    while (shared < points.length && shared < this.previous.length && points[shared] === this.previous[shared]) shared++;
    this.previous = points;
    for (let i = shared; i < points.length; i++) {
      const row = this.nextRow(this.rows[i]!, points[i]!);
      this.rows[i + 1] = row;
      if (minimumOf(row) > this.maxEdits) {
        // Forget rows past this point so the next candidate recomputes them.
        this.previous = points.slice(0, i + 1);
        return undefined;
      }
    }
    const result = this.rows[points.length]![this.query.length]!;
    return result <= this.maxEdits ? result : undefined;
  }

  private nextRow(above: Int32Array, point: number): Int32Array {
    const row = new Int32Array(this.query.length + 1);
    row[0] = above[0]! + 1;
    for (let j = 1; j <= this.query.length; j++) {
      const substitution = above[j - 1]! + (this.query[j - 1] === point ? 0 : 1);
      row[j] = Math.min(substitution, above[j]! + 1, row[j - 1]! + 1);
    }
    return row;
  }
}

function minimumOf(row: Int32Array): number {
  let min = row[0]!;
  for (let j = 1; j < row.length; j++) if (row[j]! < min) min = row[j]!;
  return min;
}

export function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0)!);
  return out;
}
