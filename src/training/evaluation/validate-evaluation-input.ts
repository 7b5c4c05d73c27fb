import { AppError } from '../../core/index.ts';
import type { EvaluateInput } from './evaluation-types.ts';

const fail = (message: string): never => {
  throw new AppError('VALIDATION_FAILED', message);
};

/** Index of the first element failing `ok`, or −1. */
function firstBad(values: Float64Array, ok: (v: number) => boolean): number {
  for (let i = 0; i < values.length; i++) if (!ok(values[i] as number)) return i;
  return -1;
}

/** Rejects input the metrics would silently get wrong: misaligned arrays, NaN, labels other than 0/1. */
export function validateEvaluationInput(input: EvaluateInput): void {
  const { task, labels, scores, weights, threshold = 0.5, segments = [], bootstrap } = input;
  const n = labels.length;
  if (n === 0) fail('evaluation needs at least one row');
  if (scores.length !== n) fail(`labels have ${n} rows but scores have ${scores.length}`);
  if (weights && weights.length !== n) fail(`labels have ${n} rows but weights have ${weights.length}`);

  const isBinary = task === 'binary';
  const badLabel = firstBad(labels, isBinary ? (v) => v === 0 || v === 1 : Number.isFinite);
  if (badLabel >= 0)
    fail(
      `label at row ${badLabel} is ${labels[badLabel]}; ${isBinary ? 'binary labels must be 0 or 1' : 'labels must be finite'}`,
    );
  const badScore = firstBad(scores, isBinary ? (v) => v >= 0 && v <= 1 : Number.isFinite);
  if (badScore >= 0) {
    fail(
      `score at row ${badScore} is ${scores[badScore]}; ${isBinary ? 'scores must be probabilities in [0, 1]' : 'scores must be finite'}`,
    );
  }
  if (weights) {
    const badWeight = firstBad(weights, (v) => Number.isFinite(v) && v >= 0);
    if (badWeight >= 0) fail(`weight at row ${badWeight} is ${weights[badWeight]}; weights must be finite and ≥ 0`);
    if (!weights.some((w) => w > 0)) fail('at least one weight must be positive');
  }
  if (!(threshold >= 0 && threshold <= 1)) fail(`threshold ${threshold} must be in [0, 1]`);
  const bins = input.calibrationBins ?? 10;
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000) fail('calibrationBins must be an integer from 1 to 1000');
  const minRows = input.minSegmentRows ?? 100;
  if (!Number.isInteger(minRows) || minRows < 1) fail('minSegmentRows must be a positive integer');

  const columns = new Set<string>();
  for (const segment of segments) {
    if (segment.column.length === 0) fail('segment column names must not be empty');
    if (columns.has(segment.column)) fail(`segment column '${segment.column}' is given twice`);
    columns.add(segment.column);
    if (segment.values.length !== n) fail(`segment column '${segment.column}' has ${segment.values.length} rows, labels ${n}`);
    if (segment.bins !== undefined && !(segment.values instanceof Float64Array)) {
      fail(`segment column '${segment.column}': bins apply to numeric (Float64Array) columns only`);
    }
    if (segment.bins !== undefined && !(Number.isInteger(segment.bins) && segment.bins >= 1)) {
      fail(`segment column '${segment.column}': bins must be a positive integer`);
    }
  }

  if (bootstrap) {
    const { samples = 200, confidence = 0.95, seed = 0 } = bootstrap;
    if (!Number.isInteger(samples) || samples < 1) fail('bootstrap samples must be a positive integer');
    if (!(confidence > 0 && confidence < 1)) fail('bootstrap confidence must be between 0 and 1');
    if (!Number.isSafeInteger(seed)) fail('bootstrap seed must be an integer');
  }
}
