import { AppError } from '../../core/index.ts';
import type { Table, Task, TrainInput } from '../training-types.ts';

const fail = (message: string): AppError => new AppError('VALIDATION_FAILED', message);

/** The label as numbers, checked against the task: 0/1 for binary, finite for regression. */
export function labelColumn(table: Table, label: string, task: Task, what: string): Float64Array {
  const y = table.columns[label];
  if (!(y instanceof Float64Array)) throw fail(`${what} label column '${label}' must be a numeric (Float64Array) column`);
  if (y.length !== table.rows) throw fail(`${what} label column '${label}' has ${y.length} values, expected ${table.rows}`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (task === 'binary' ? v !== 0 && v !== 1 : !Number.isFinite(v)) {
      const need = task === 'binary' ? '0 or 1' : 'a finite number';
      throw fail(`${what} label '${label}' must be ${need} on every row; row ${i} has ${v}`);
    }
  }
  return y;
}

/** Rejects inputs that would otherwise fail deep inside training or produce a broken graph. */
export function checkInput(input: TrainInput): { y: Float64Array; validY: Float64Array | undefined } {
  const { train, valid, features, label, task, weights } = input;
  if (task !== 'binary' && task !== 'regression')
    throw fail(`GBDT supports tasks 'binary' and 'regression', got '${String(task)}'`);
  if (!Number.isInteger(train.rows) || train.rows < 1) throw fail('GBDT needs at least one training row');
  if (features.length === 0) throw fail('GBDT needs at least one feature');
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name)) throw fail(`feature '${f.name}' is listed twice`);
    if (f.name === label) throw fail(`feature '${f.name}' is also the label`);
    if (f.kind !== 'numeric' && f.kind !== 'categorical') throw fail(`feature '${f.name}' has unknown kind '${String(f.kind)}'`);
    seen.add(f.name);
  }
  if (weights) {
    if (weights.length !== train.rows) throw fail(`weights has ${weights.length} values, expected ${train.rows}`);
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!(w >= 0 && Number.isFinite(w))) throw fail(`weights must be finite and >= 0; row ${i} has ${w}`);
    }
  }
  const y = labelColumn(train, label, task, 'training');
  const validY = valid && valid.rows > 0 ? labelColumn(valid, label, task, 'validation') : undefined;
  return { y, validY };
}
