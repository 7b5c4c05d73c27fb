import { seededRandom } from '../../core/index.ts';
import type { MetricSuite } from './metric-suite.ts';

export { seededRandom };

export interface BootstrapOptions {
  /** Resamples drawn. Default 200. */
  samples?: number;
  /** Central coverage of the percentile interval. Default 0.95. */
  confidence?: number;
  /** Same seed, same data → same intervals. Default 0. */
  seed?: number;
}

export interface Interval {
  low: number;
  high: number;
}

/** Linear interpolation between order statistics (numpy's default), over a sorted array. */
export function percentile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

/**
 * Percentile bootstrap intervals for every metric of the suite. A resample draws n rows with
 * replacement and is evaluated as draw counts over the suite's presorted positions, so each resample
 * costs O(n) with no sort (AUC included) and reuses one counts array: roughly 40–80 ms per resample
 * per million rows, i.e. 10–20 s for 200 resamples of 1M rows. All n rows are resampled, even for
 * large n: drawing fewer (m-out-of-n) would widen the intervals by about √(n/m), so lower `samples`
 * rather than the rows when time matters. Resamples where a metric is undefined (e.g. one class,
 * for AUC) are left out of that metric's interval; a metric with no defined resample gets none.
 */
export function bootstrapIntervals(suite: MetricSuite, options: BootstrapOptions = {}): Record<string, Interval> {
  const { samples = 200, confidence = 0.95, seed = 0 } = options;
  const n = suite.order.length;
  const random = seededRandom(seed);
  const counts = new Uint32Array(n);
  const draws = new Map<string, Float64Array>(suite.names.map((name) => [name, new Float64Array(samples)]));
  for (let s = 0; s < samples; s++) {
    counts.fill(0);
    for (let k = 0; k < n; k++) {
      const position = Math.floor(random() * n);
      counts[position] = (counts[position] as number) + 1;
    }
    const metrics = suite.compute(suite.all, counts);
    for (const [name, values] of draws) values[s] = metrics[name] ?? Number.NaN;
  }
  const tail = (1 - confidence) / 2;
  const intervals: Record<string, Interval> = {};
  for (const [name, values] of draws) {
    const defined = values.filter((v) => Number.isFinite(v)).sort();
    if (defined.length === 0) continue;
    intervals[name] = { low: percentile(defined, tail), high: percentile(defined, 1 - tail) };
  }
  return intervals;
}
