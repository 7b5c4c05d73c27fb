/** Test support: tables whose labels follow a known linear model, so fits can be checked against it. */
import { gaussian, type SyntheticColumns, seededRandom, syntheticTable } from '../preprocessing/synthetic-table.ts';
import type { Table, Task } from '../training-types.ts';

export interface KnownModel {
  intercept: number;
  /** Effect per unit of the column's generating standard score ((x − mean) / std); missing values add 0. */
  numeric: Record<string, number>;
  /** Effect per category string; strings not listed add 0. */
  categorical: Record<string, Record<string, number>>;
  /** Regression: standard deviation of the Gaussian noise. */
  noise?: number;
}

/** `spec`'s columns plus a label `y` drawn from `model` (Bernoulli(sigmoid) for binary, Gaussian for regression). */
export function tableFromModel(rows: number, spec: SyntheticColumns, model: KnownModel, task: Task, seed: number): Table {
  const table = syntheticTable(rows, spec, seed);
  const random = seededRandom(seed + 1);
  const eta = new Float64Array(rows).fill(model.intercept);
  for (const n of spec.numeric ?? []) {
    const beta = model.numeric[n.name] ?? 0;
    const x = table.columns[n.name] as Float64Array;
    for (let i = 0; i < rows; i++) {
      const v = x[i] as number;
      if (!Number.isNaN(v)) eta[i] = (eta[i] as number) + (beta * (v - n.mean)) / n.std;
    }
  }
  for (const c of spec.categorical ?? []) {
    const effects = model.categorical[c.name] ?? {};
    const x = table.columns[c.name] as (string | null)[];
    for (let i = 0; i < rows; i++) eta[i] = (eta[i] as number) + (effects[x[i] ?? ''] ?? 0);
  }
  table.columns['y'] = eta.map((e) =>
    task === 'binary' ? Number(random() < 1 / (1 + Math.exp(-e))) : e + (model.noise ?? 1) * gaussian(random),
  );
  return table;
}
