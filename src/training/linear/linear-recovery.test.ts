import { describe, expect, it } from 'vitest';
import type { SyntheticColumns } from '../preprocessing/synthetic-table.ts';
import type { FeatureSpec, Table, Task } from '../training-types.ts';
import { type KnownModel, tableFromModel } from './linear-test-data.ts';
import { trainLogisticRegression } from './train-linear.ts';

// A well-specified simulation: no missing values, every category seen, the label drawn from the model.
const columns: SyntheticColumns = {
  numeric: [
    { name: 'a', mean: 5, std: 2 },
    { name: 'b', mean: -1, std: 0.5 },
    { name: 'c', mean: 0, std: 3 },
  ],
  categorical: [{ name: 'k', levels: 4, prefix: 'k' }],
};
const numericSpecs = columns.numeric ?? [];
const features: FeatureSpec[] = [
  { name: 'a', kind: 'numeric' },
  { name: 'b', kind: 'numeric' },
  { name: 'k', kind: 'categorical' },
  { name: 'c', kind: 'numeric' },
];

/** One row per probe: every numeric column at its generating mean, except `shift` moved by one generating std. */
function probe(category: string, shift?: string): Table {
  const cols: Table['columns'] = { k: [category] };
  for (const n of numericSpecs) cols[n.name] = Float64Array.of(n.mean + (n.name === shift ? n.std : 0));
  return { rows: 1, columns: cols };
}

/**
 * The fitted model's effects on the generating scale, read back through predict: the change in logit (or
 * prediction) from one generating std of each numeric column, and each category's offset against k2.
 */
function fittedEffects(predict: (t: Table) => Float64Array, task: Task) {
  const link = (p: number) => (task === 'binary' ? Math.log(p / (1 - p)) : p);
  const at = (t: Table) => link(predict(t)[0] as number);
  const base = at(probe('k2'));
  const numeric = Object.fromEntries(numericSpecs.map((n) => [n.name, at(probe('k2', n.name)) - base]));
  const categorical = Object.fromEntries(['k0', 'k1', 'k3'].map((k) => [k, at(probe(k)) - base]));
  return { intercept: base, numeric, categorical };
}

function expectRecovered(
  fitted: ReturnType<typeof fittedEffects>,
  known: KnownModel,
  tolerance: { numeric: number; categorical: number },
) {
  const effects = known.categorical['k'] ?? {};
  for (const n of numericSpecs)
    expect(Math.abs((fitted.numeric[n.name] ?? 0) - (known.numeric[n.name] ?? 0))).toBeLessThan(tolerance.numeric);
  for (const k of ['k0', 'k1', 'k3']) {
    const truth = (effects[k] ?? 0) - (effects['k2'] ?? 0);
    expect(Math.abs((fitted.categorical[k] ?? 0) - truth)).toBeLessThan(tolerance.categorical);
  }
  const intercept = known.intercept + (effects['k2'] ?? 0);
  expect(Math.abs(fitted.intercept - intercept)).toBeLessThan(tolerance.categorical);
}

describe('trainLogisticRegression recovers the generating coefficients', () => {
  it('binary: 40k rows', async () => {
    const known: KnownModel = {
      intercept: -0.5,
      numeric: { a: 1, b: -0.7, c: 0.4 },
      categorical: { k: { k0: 0.8, k1: -0.6, k2: 0, k3: 0.3 } },
    };
    const rows = 40_000;
    const train = tableFromModel(rows, columns, known, 'binary', 101);
    const model = await trainLogisticRegression({ train, label: 'y', features, task: 'binary' });
    expect(model.info['converged']).toBe(1);
    // Standard errors: a standardised slope ≈ 1/√(n·p(1−p)) with p(1−p) ≳ 0.15 here → ≈ 0.013; a
    // difference of two categories (n/4 rows each) ≈ √(2/(n/4·0.15)) ≈ 0.037. Allow about 4 standard errors.
    // The L2 default (1e-4 per row) shifts estimates by < 0.003, well inside that.
    expectRecovered(fittedEffects(model.predict, 'binary'), known, { numeric: 0.05, categorical: 0.15 });
  });

  it('regression: 20k rows with noise σ = 0.5', async () => {
    const known: KnownModel = {
      intercept: 10,
      numeric: { a: 2, b: -1, c: 0.5 },
      categorical: { k: { k0: 1.5, k1: -0.5, k2: 0, k3: 0.25 } },
      noise: 0.5,
    };
    const rows = 20_000;
    const train = tableFromModel(rows, columns, known, 'regression', 102);
    const model = await trainLogisticRegression({ train, label: 'y', features, task: 'regression' });
    expect(model.info['converged']).toBe(1);
    // Standard errors: σ/√n ≈ 0.0035 for a standardised slope, σ·√(2/(n/4)) ≈ 0.01 for a category difference.
    expectRecovered(fittedEffects(model.predict, 'regression'), known, { numeric: 0.015, categorical: 0.04 });
    // The residual error of a well-specified fit is the noise variance.
    expect(model.history.at(-1)?.train).toBeCloseTo(0.25, 1);
  });
});
