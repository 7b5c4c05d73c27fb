import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binaryMetrics, regressionMetrics } from './evaluate.ts';

/** Produced by fixtures/make-fixture.py (scikit-learn + numpy); 2,000 rows, scores rounded so ties abound. */
interface Reference {
  labels: number[];
  scores: number[];
  weights: number[];
  targets: number[];
  predictions: number[];
  binary: Record<string, number>;
  binary_weighted: Record<string, number>;
  regression: Record<string, number>;
  regression_weighted: Record<string, number>;
}

const reference = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')) as Reference;
const labels = Float64Array.from(reference.labels);
const scores = Float64Array.from(reference.scores);
const weights = Float64Array.from(reference.weights);
const targets = Float64Array.from(reference.targets);
const predictions = Float64Array.from(reference.predictions);

function expectMatches(actual: Record<string, number>, expected: Record<string, number>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected)) {
    const got = actual[name] as number;
    // 1e-9, relative for values above 1 (RMSE, MAE).
    expect(Math.abs(got - value), `${name}: ${got} vs ${value}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
  }
}

describe('metrics against scikit-learn', () => {
  it('match for a binary classifier with tied scores', () => {
    expect(new Set(reference.scores).size).toBeLessThan(100); // the fixture really has ties
    expectMatches(binaryMetrics(labels, scores), reference.binary);
  });

  it('match for a binary classifier with weights', () => {
    expectMatches(binaryMetrics(labels, scores, { weights }), reference.binary_weighted);
  });

  it('match for a regressor, with and without weights', () => {
    expectMatches(regressionMetrics(targets, predictions), reference.regression);
    expectMatches(regressionMetrics(targets, predictions, weights), reference.regression_weighted);
  });
});
