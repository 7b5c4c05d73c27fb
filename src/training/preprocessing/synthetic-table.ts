/** Seeded synthetic tables for the preprocessing and linear-model tests (not exported from the module). */

import { seededRandom } from '../../core/index.ts';
import type { Table } from '../training-types.ts';

export { seededRandom };

/** Standard normal by Box–Muller. */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface SyntheticColumns {
  /** Numeric columns: x_j = mean_j + std_j · N(0,1), NaN with probability missingRate. */
  numeric?: { name: string; mean: number; std: number; missingRate?: number }[];
  /** Categorical columns drawn uniformly from `prefix0..prefix{levels-1}`, null with probability missingRate. */
  categorical?: { name: string; levels: number; prefix?: string; missingRate?: number }[];
}

export function syntheticTable(rows: number, spec: SyntheticColumns, seed: number): Table {
  const random = seededRandom(seed);
  const columns: Table['columns'] = {};
  for (const n of spec.numeric ?? []) {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      values[i] = random() < (n.missingRate ?? 0) ? Number.NaN : n.mean + n.std * gaussian(random);
    }
    columns[n.name] = values;
  }
  for (const c of spec.categorical ?? []) {
    const values: (string | null)[] = new Array(rows);
    for (let i = 0; i < rows; i++) {
      values[i] = random() < (c.missingRate ?? 0) ? null : `${c.prefix ?? c.name}${Math.floor(random() * c.levels)}`;
    }
    columns[c.name] = values;
  }
  return { rows, columns };
}
