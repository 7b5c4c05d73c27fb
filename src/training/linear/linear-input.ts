import { AppError } from '../../core/index.ts';
import type { Table, TrainInput } from '../training-types.ts';
import { OUTPUT_NAMES } from './linear-onnx.ts';

const invalid = (message: string): AppError => new AppError('VALIDATION_FAILED', message);

/** Checks what preprocessing does not: task, label column and values, row weights, reserved names. */
export function checkLinearInput(input: TrainInput): void {
  if (input.task !== 'binary' && input.task !== 'regression') throw invalid(`unknown task '${String(input.task)}'`);
  for (const f of input.features) {
    if (f.name === input.label) throw invalid(`the label '${input.label}' cannot also be a feature`);
    if (OUTPUT_NAMES.includes(f.name)) throw invalid(`feature name '${f.name}' is reserved for a model output`);
  }
  checkLabel(input.train, input, 'train');
  if (input.valid) checkLabel(input.valid, input, 'valid');
  const w = input.weights;
  if (w === undefined) return;
  if (w.length !== input.train.rows) throw invalid(`weights has ${w.length} values but train has ${input.train.rows} rows`);
  let sum = 0;
  for (const v of w) {
    if (!(v >= 0) || !Number.isFinite(v)) throw invalid(`row weights must be finite and non-negative, got ${v}`);
    sum += v;
  }
  if (!(sum > 0)) throw invalid('row weights sum to zero');
}

function checkLabel(table: Table, input: TrainInput, what: string): void {
  if (table.rows === 0) throw invalid(`${what}: the table is empty (0 rows)`);
  const y = table.columns[input.label];
  if (y === undefined) throw invalid(`${what}: label column '${input.label}' is missing`);
  if (!(y instanceof Float64Array)) throw invalid(`${what}: label column '${input.label}' must be numeric (Float64Array)`);
  if (y.length !== table.rows) throw invalid(`${what}: label '${input.label}' has ${y.length} values for ${table.rows} rows`);
  const binary = input.task === 'binary';
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (binary ? v !== 0 && v !== 1 : !Number.isFinite(v)) {
      const need = binary ? 'be 0 or 1 for a binary task' : 'be a finite number for regression';
      throw invalid(`${what}: label '${input.label}' must ${need}; row ${i} has ${v}`);
    }
    positives += v;
  }
  if (binary && what === 'train' && (positives === 0 || positives === y.length)) {
    throw invalid(`train: label '${input.label}' has only one class (${positives === 0 ? 0 : 1}); a binary task needs both`);
  }
}

/** Row weights normalised to sum to 1, or undefined for equal weights. */
export function normalisedRowWeights(weights: Float64Array | undefined): Float64Array | undefined {
  if (weights === undefined) return undefined;
  let sum = 0;
  for (const v of weights) sum += v;
  return weights.map((v) => v / sum);
}

/** Weighted mean and standard deviation (1 when constant), for fitting regression on a unit-scale target. */
export function targetScale(y: Float64Array, rowWeights: Float64Array | undefined): { mean: number; std: number } {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (rowWeights ? (rowWeights[i] as number) : 1 / n) * (y[i] as number);
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (rowWeights ? (rowWeights[i] as number) : 1 / n) * ((y[i] as number) - mean) ** 2;
  const std = Math.sqrt(variance);
  return { mean, std: std > 0 && Number.isFinite(std) ? std : 1 };
}
