export interface SegmentSpec {
  column: string;
  /** String columns segment by value. Numeric columns segment by value as a string, or by `bins`. */
  values: (string | null)[] | Float64Array;
  /**
   * Numeric columns only: quantile bins instead of one segment per distinct value. Bins are
   * labelled `lo..hi` (lo ≤ x < hi; the last bin includes hi), with equal values never split, so
   * heavy ties can give fewer bins than asked. Missing (null, NaN) rows form a segment of value null.
   */
  bins?: number;
}

export interface SegmentGroup {
  value: string | null;
  /** The group's positions in the suite's order (ascending). */
  positions: Uint32Array;
}

/** Short, key-safe numbers for bin labels. */
const formatEdge = (x: number): string => String(Number(x.toPrecision(6)));

/** Each row's bin index (−1 when missing) and the bins' labels, from quantile cut points. */
function quantileBins(values: Float64Array, bins: number): { codes: Int32Array; labels: string[] } {
  let present = 0;
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) sorted[present++] = values[i] as number;
  sorted.subarray(0, present).sort();
  const codes = new Int32Array(values.length).fill(-1);
  if (present === 0) return { codes, labels: [] };
  const min = sorted[0] as number;
  const max = sorted[present - 1] as number;
  // Cut k is the value at quantile k/bins; a cut equal to the previous one (or the minimum) would leave an empty bin.
  const cuts: number[] = [];
  for (let k = 1; k < bins; k++) {
    const cut = sorted[Math.floor((k * present) / bins)] as number;
    if (cut > (cuts[cuts.length - 1] ?? min)) cuts.push(cut);
  }
  const edges = [min, ...cuts, max];
  const labels = edges.slice(1).map((hi, b) => `${formatEdge(edges[b] as number)}..${formatEdge(hi)}`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    // Bin = number of cuts ≤ v (binary search).
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cuts[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    codes[i] = lo;
  }
  return { codes, labels };
}

/** Each row's segment code (−1 for null) and the labels, categorical labels sorted for stable output. */
function distinctValues(values: (string | null)[] | Float64Array): { codes: Int32Array; labels: string[] } {
  const asText = (i: number): string | null => {
    const v = values[i];
    if (typeof v === 'number') return Number.isNaN(v) ? null : String(v);
    return v ?? null;
  };
  const seen = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const v = asText(i);
    if (v !== null) seen.add(v);
  }
  const labels = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const codeOf = new Map(labels.map((label, code) => [label, code]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = asText(i);
    codes[i] = v === null ? -1 : (codeOf.get(v) as number);
  }
  return { codes, labels };
}

/**
 * One group per segment value: the positions in `order` (position → row) whose row has that value.
 * The spec is checked by validateEvaluationInput.
 */
export function groupRows(spec: SegmentSpec, order: Uint32Array): SegmentGroup[] {
  const { codes, labels } =
    spec.bins !== undefined && spec.values instanceof Float64Array
      ? quantileBins(spec.values, spec.bins)
      : distinctValues(spec.values);
  // Counting sort by code; slot labels.length holds the missing rows.
  const missing = labels.length;
  const sizes = new Uint32Array(labels.length + 1);
  for (let i = 0; i < codes.length; i++) {
    const slot = codes[i] === -1 ? missing : (codes[i] as number);
    sizes[slot] = (sizes[slot] as number) + 1;
  }
  const groups = [...labels, null].map((value, slot) => ({ value, positions: new Uint32Array(sizes[slot] as number) }));
  const filled = new Uint32Array(labels.length + 1);
  for (let k = 0; k < order.length; k++) {
    const row = order[k] as number;
    const slot = codes[row] === -1 ? missing : (codes[row] as number);
    const at = filled[slot] as number;
    (groups[slot] as SegmentGroup).positions[at] = k;
    filled[slot] = at + 1;
  }
  return groups.filter((group) => group.positions.length > 0);
}
