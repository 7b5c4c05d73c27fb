import type { FeatureSpec, Table, Task } from '../training-types.ts';
import { seededRandom } from './params.ts';

/** Shared by the GBDT tests and benchmark: a non-linear signal with missing values and a categorical column. */
export const SYNTHETIC_FEATURES: FeatureSpec[] = [
  { name: 'x1', kind: 'numeric' },
  { name: 'x2', kind: 'numeric' },
  { name: 'steps', kind: 'numeric' },
  { name: 'city', kind: 'categorical' },
  { name: 'noise', kind: 'numeric' },
];

export interface SyntheticOptions {
  rows: number;
  task: Task;
  seed: number;
  /** Extra pure-noise numeric columns (named `extra0`, …), e.g. to reach a realistic width. */
  extraFeatures?: number;
  /** Share of categories drawn from outside the training vocabulary. */
  unseenRate?: number;
}

export function syntheticTable(opts: SyntheticOptions): Table {
  const { rows, task, seed } = opts;
  const random = seededRandom(seed);
  const effects = [-1.2, -0.8, -0.5, -0.2, 0, 0.1, 0.3, 0.5, 0.7, 1, 1.3, 1.6];
  const normal = (): number => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const x1 = new Float64Array(rows);
  const x2 = new Float64Array(rows);
  const steps = new Float64Array(rows);
  const noise = new Float64Array(rows);
  const city: (string | null)[] = new Array(rows);
  const y = new Float64Array(rows);
  const extras = Array.from({ length: opts.extraFeatures ?? 0 }, () => new Float64Array(rows));
  for (let i = 0; i < rows; i++) {
    const a = random() * 4 - 2;
    x1[i] = random() < 0.1 ? Number.NaN : a;
    x2[i] = normal();
    steps[i] = Math.floor(random() * 10);
    noise[i] = normal();
    const c = Math.floor(random() * effects.length);
    const u = random();
    city[i] = u < 0.05 ? null : u < 0.05 + (opts.unseenRate ?? 0) ? `new${c}` : `c${c}`;
    for (const e of extras) e[i] = random();
    const cityEffect = city[i] === `c${c}` ? (effects[c] ?? 0) : 0;
    const x1Effect = Number.isNaN(x1[i] as number) ? 0.8 : Math.sin(2 * a);
    const f =
      x1Effect + ((x2[i] as number) > 0.5 ? 1 : -0.5) * ((steps[i] as number) / 5) + cityEffect + 0.5 * (x2[i] as number) * a;
    y[i] = task === 'binary' ? (random() < 1 / (1 + Math.exp(-2 * f)) ? 1 : 0) : 3 * f + 0.5 * normal();
  }
  const columns: Table['columns'] = { x1, x2, steps, city, noise, y };
  extras.forEach((e, k) => {
    columns[`extra${k}`] = e;
  });
  return { rows, columns };
}
