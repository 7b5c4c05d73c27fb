import { AppError } from '../../core/index.ts';
import type { Column, FeatureSpec, Table } from '../training-types.ts';

/**
 * How one feature maps to bins. Bin b < numBins holds values with `fround(x) <= thresholds[b]` and
 * above the previous bound; thresholds are float32 values, so a float32 `x <= threshold` comparison
 * (what ONNX Runtime does) agrees exactly with the bin a row trained in. Bin `numBins` is missing.
 */
export interface FeatureBins {
  spec: FeatureSpec;
  /** Strictly increasing float32 values; the last is +Infinity so every number has a bin. */
  thresholds: Float64Array;
  numBins: number;
  /** Categorical only: category → code (its bin), fed to the trees as a number. */
  codes?: Map<string, number>;
}

/**
 * Bin codes row-major (`bins[row * stride + f]`): a row's features sit together for histogram building.
 * Rows are padded to whole 32-bit words so partitioning can move a row as a few words, not byte by byte.
 */
export interface BinnedRows {
  rows: number;
  stride: number;
  bins: Uint8Array;
}

export const rowStride = (features: number): number => Math.ceil(features / 4) * 4;

const SAMPLE_ROWS = 200_000;

const fail = (message: string): AppError => new AppError('VALIDATION_FAILED', message);

/**
 * Codes categories by frequency (most frequent first, ties by name), one bin each. The trees split a
 * categorical feature on sets of codes chosen per node, so the order only decides which categories
 * keep a bin when there are more than `maxCategories`: the rarest share the missing bin.
 */
export function fitCategoryCodes(column: (string | null)[], maxCategories: number, weights?: Float64Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < column.length; i++) {
    const c = column[i];
    if (c === null || c === undefined || c === '') continue;
    const w = weights ? (weights[i] as number) : 1;
    if (!(w > 0)) continue;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(ranked.slice(0, maxCategories).map(([name], i) => [name, i]));
}

/** One bin per category code: code c lands in bin c (cuts halfway between consecutive integers). */
export function categoryThresholds(categories: number): Float64Array {
  const cuts = Float64Array.from({ length: Math.max(1, categories) }, (_, i) => i + 0.5);
  cuts[cuts.length - 1] = Number.POSITIVE_INFINITY;
  return cuts;
}

/** The numbers the trees see for one feature: raw values, or category codes with NaN for missing and unseen. */
export function featureValues(
  spec: FeatureSpec,
  column: Column | undefined,
  rows: number,
  codes?: Map<string, number>,
): Float64Array {
  if (column === undefined) throw fail(`feature column '${spec.name}' is missing`);
  if (column.length !== rows) throw fail(`feature column '${spec.name}' has ${column.length} values, expected ${rows}`);
  if (spec.kind === 'numeric') {
    if (!(column instanceof Float64Array)) throw fail(`numeric feature '${spec.name}' needs a Float64Array column`);
    return column;
  }
  if (column instanceof Float64Array) throw fail(`categorical feature '${spec.name}' needs a string column`);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = column[i];
    out[i] = c === null || c === undefined || c === '' ? Number.NaN : (codes?.get(c) ?? Number.NaN);
  }
  return out;
}

/** A float32 cut strictly between two adjacent distinct float32 values: `a <= cut < b`. */
function cutBetween(a: number, b: number): number {
  const mid = Math.fround(a / 2 + b / 2);
  return mid >= b || Number.isNaN(mid) ? a : mid;
}

/** Quantile bin bounds from (a sample of) the non-missing values, at most `maxBins` bins. */
export function fitThresholds(values: Float64Array, maxBins: number, random: () => number): Float64Array {
  const n = values.length;
  const take = Math.min(n, SAMPLE_ROWS);
  const sample = new Float64Array(take);
  let m = 0;
  for (let k = 0; k < take; k++) {
    const v = values[take === n ? k : Math.floor(random() * n)] as number;
    if (!Number.isNaN(v)) sample[m++] = Math.fround(v);
  }
  const sorted = sample.subarray(0, m).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < m; k++) {
    const v = sorted[k] as number;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1] = (counts.at(-1) ?? 0) + 1;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let k = 0; k + 1 < distinct.length; k++) cuts.push(cutBetween(distinct[k] as number, distinct[k + 1] as number));
  } else {
    // Greedy equal-frequency: a heavy value (e.g. many zeros) fills its own bin and the rest share what is left.
    let remaining = m;
    let binsLeft = maxBins;
    let acc = 0;
    for (let k = 0; k + 1 < distinct.length && binsLeft > 1; k++) {
      acc += counts[k] as number;
      if (acc >= remaining / binsLeft || (counts[k + 1] as number) >= remaining / binsLeft) {
        cuts.push(cutBetween(distinct[k] as number, distinct[k + 1] as number));
        remaining -= acc;
        acc = 0;
        binsLeft--;
      }
    }
  }
  cuts.push(Number.POSITIVE_INFINITY);
  return Float64Array.from(cuts);
}

/** Writes feature `f`'s bin codes into the row-major matrix. */
export function binColumn(values: Float64Array, fb: FeatureBins, out: BinnedRows, f: number): void {
  const { thresholds, numBins } = fb;
  const stride = out.stride;
  const bins = out.bins;
  const last = numBins - 1;
  for (let i = 0; i < values.length; i++) {
    const x = Math.fround(values[i] as number);
    let bin: number;
    if (Number.isNaN(x)) bin = numBins;
    else {
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x <= (thresholds[mid] as number)) hi = mid;
        else lo = mid + 1;
      }
      bin = lo;
    }
    bins[i * stride + f] = bin;
  }
}

/** Bins every feature of a table with already-fitted bins (training or validation rows). */
export function binTable(table: Table, featureBins: FeatureBins[]): BinnedRows {
  const stride = rowStride(featureBins.length);
  const out: BinnedRows = { rows: table.rows, stride, bins: new Uint8Array(table.rows * stride) };
  featureBins.forEach((fb, f) => {
    binColumn(featureValues(fb.spec, table.columns[fb.spec.name], table.rows, fb.codes), fb, out, f);
  });
  return out;
}

/** Fits codes and bins for every feature on the training rows. */
export function fitFeatureBins(
  table: Table,
  features: FeatureSpec[],
  maxBins: number,
  random: () => number,
  weights?: Float64Array,
): FeatureBins[] {
  return features.map((spec) => {
    const column = table.columns[spec.name];
    if (spec.kind === 'categorical') {
      if (column === undefined || column instanceof Float64Array)
        throw fail(`categorical feature '${spec.name}' needs a string column`);
      const codes = fitCategoryCodes(column, maxBins, weights);
      const thresholds = categoryThresholds(codes.size);
      return { spec, thresholds, numBins: thresholds.length, codes };
    }
    const thresholds = fitThresholds(featureValues(spec, column, table.rows), maxBins, random);
    return { spec, thresholds, numBins: thresholds.length };
  });
}
