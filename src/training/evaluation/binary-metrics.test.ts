import { describe, expect, it } from 'vitest';
import { calibrationBin } from './binary-metrics.ts';
import { seededRandom } from './bootstrap.ts';
import { binaryMetrics } from './evaluate.ts';

const f64 = (values: number[]): Float64Array => Float64Array.from(values);

/** The definition, pair by pair: P(positive outranks negative) with ties worth one half. */
function bruteForceAuc(labels: Float64Array, scores: Float64Array, weights: Float64Array): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      const w = (weights[i] as number) * (weights[j] as number);
      const si = scores[i] as number;
      const sj = scores[j] as number;
      sum += w * (si > sj ? 1 : si === sj ? 0.5 : 0);
      pairs += w;
    }
  }
  return sum / pairs;
}

describe('AUC', () => {
  const labels = f64([0, 0, 1, 0, 1, 1]);

  it('is 1 for a perfect ranking, 0 for a reversed one and 0.5 when all scores tie', () => {
    expect(binaryMetrics(labels, f64([0.1, 0.2, 0.7, 0.3, 0.8, 0.9])).auc).toBe(1);
    expect(binaryMetrics(labels, f64([0.9, 0.8, 0.3, 0.7, 0.2, 0.1])).auc).toBe(0);
    expect(binaryMetrics(labels, f64([0.4, 0.4, 0.4, 0.4, 0.4, 0.4])).auc).toBe(0.5);
  });

  it('is NaN when only one class is present', () => {
    expect(binaryMetrics(f64([1, 1]), f64([0.2, 0.9])).auc).toBeNaN();
  });

  it('equals the pairwise definition on random tied, weighted data', () => {
    const random = seededRandom(7);
    const n = 300;
    const y = new Float64Array(n).map(() => (random() < 0.4 ? 1 : 0));
    const p = new Float64Array(n).map(() => Math.round(random() * 20) / 20);
    const w = new Float64Array(n).map(() => random() * 2);
    expect(binaryMetrics(y, p, { weights: w }).auc).toBeCloseTo(bruteForceAuc(y, p, w), 12);
  });
});

describe('threshold and probability metrics', () => {
  it('clip log loss at 1e-15 so confident misses stay finite', () => {
    const metrics = binaryMetrics(f64([1, 0]), f64([0, 1]));
    expect(metrics.log_loss).toBeCloseTo(-Math.log(1e-15), 9);
  });

  it('predict positive at score ≥ threshold and report 0 when a ratio has nothing to divide', () => {
    const labels = f64([1, 0, 1, 0]);
    const scores = f64([0.5, 0.49, 0.2, 0.1]);
    expect(binaryMetrics(labels, scores)).toMatchObject({ precision: 1, recall: 0.5, accuracy: 0.75 });
    expect(binaryMetrics(labels, scores, { threshold: 0.9 })).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('put scores on a bin edge into the upper bin, and 1 into the last bin', () => {
    expect(calibrationBin(0.3, 10)).toBe(3);
    expect(calibrationBin(0.7, 10)).toBe(7);
    expect(calibrationBin(0.29999, 10)).toBe(2);
    expect(calibrationBin(1, 10)).toBe(9);
    expect(calibrationBin(0, 10)).toBe(0);
  });

  it('give ECE 0 for perfectly calibrated bins', () => {
    // Bin 2 holds 0.25 with one positive in four; bin 7 holds 0.75 with three in four.
    const metrics = binaryMetrics(f64([1, 0, 0, 0, 1, 1, 1, 0]), f64([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]));
    expect(metrics.ece).toBeCloseTo(0, 15);
    expect(metrics.brier).toBeCloseTo(0.1875, 15);
  });
});
