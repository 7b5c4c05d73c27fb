import { AppError } from '../../core/index.ts';
import { transformTable } from '../preprocessing/design-matrix.ts';
import { fitPreprocessing } from '../preprocessing/fit-preprocessing.ts';
import type { TrainedModel, TrainInput, TrainingCurvePoint } from '../training-types.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import { checkLinearInput, normalisedRowWeights, targetScale } from './linear-input.ts';
import { type LinearData, type LossKind, meanLoss, penalised } from './linear-objective.ts';
import { buildLinearOnnx, float32Scores } from './linear-onnx.ts';

export interface LinearParams {
  /**
   * L2 strength λ in (mean loss over rows) + λ/2·‖w‖², intercept unpenalised; features are standardised,
   * so one λ suits all columns. Because the loss is a mean, λ is per row (scikit-learn's SGD `alpha`, or
   * C = 1 / (λ · rows)): how much a coefficient shrinks depends on the share of rows that inform it, so a
   * category seen in fewer than about 4λ of the rows is pulled towards the shared intercept.
   */
  l2: number;
  maxIterations: number;
  /** Stop when every gradient component of the (unit-scale) objective is at most this. */
  tolerance: number;
  /** Recorded for tracking; full-batch L-BFGS from a fixed start uses no randomness. */
  seed: number;
}

export const DEFAULT_LINEAR_PARAMS: LinearParams = { l2: 1e-4, maxIterations: 300, tolerance: 1e-6, seed: 0 };

/**
 * L2-regularised logistic regression (task 'binary'), or ridge regression (task 'regression') on the
 * same path: preprocessing fitted on `train`, full-batch L-BFGS in float64, an ONNX graph with the
 * preprocessing inside, and a `predict` that reproduces the graph's float32 arithmetic.
 * Regression is fitted on a standardised target (so λ and the tolerance mean the same for any unit) and
 * the weights are scaled back; its `history` reports mean squared error in the target's units.
 */
export async function trainLogisticRegression(input: TrainInput, params: Partial<LinearParams> = {}): Promise<TrainedModel> {
  const p = resolveParams(params, input.seed);
  checkLinearInput(input);
  const prep = fitPreprocessing(input.train, input.features);
  const kind: LossKind = input.task === 'binary' ? 'logistic' : 'squared';
  const rowWeights = normalisedRowWeights(input.weights);
  const trainY = input.train.columns[input.label] as Float64Array;
  const scale = kind === 'squared' ? targetScale(trainY, rowWeights) : { mean: 0, std: 1 };
  const unitScale = (y: Float64Array) => (kind === 'squared' ? y.map((v) => (v - scale.mean) / scale.std) : y);
  const train: LinearData = { x: transformTable(prep, input.train, 'train'), y: unitScale(trainY), rowWeights };
  const valid: LinearData | undefined = input.valid && {
    x: transformTable(prep, input.valid, 'valid'),
    y: unitScale(input.valid.columns[input.label] as Float64Array),
    rowWeights: undefined,
  };
  const width = prep.width;
  const start = new Float64Array(width + 1);
  // Start from the intercept-only optimum: the base-rate logit (or 0 for the centred regression target).
  if (kind === 'logistic') start[width] = baseLogit(train);
  const lossUnits = scale.std * scale.std; // Squared error back in the target's units; 1 for log loss.
  const history: TrainingCurvePoint[] = [];
  const result = await minimizeLbfgs(penalised(train, kind, p.l2), start, {
    maxIterations: p.maxIterations,
    tolerance: p.tolerance,
    onIteration: (step, coef, objective) => {
      // The objective minus the penalty is the training loss, so the curve costs one pass over valid only.
      const trainLoss = (objective - penalty(coef, width, p.l2)) * lossUnits;
      const point: TrainingCurvePoint = { step, train: trainLoss };
      if (valid) point.valid = meanLoss(valid, kind, coef) * lossUnits;
      history.push(point);
    },
  });
  const weights = Float32Array.from(result.x.subarray(0, width), (w) => w * scale.std);
  const bias = Math.fround(scale.mean + scale.std * (result.x[width] as number));
  const sigmoid = kind === 'logistic';
  return {
    kind: 'logistic_regression',
    task: input.task,
    features: prep.features,
    onnx: buildLinearOnnx({ prep, task: input.task, weights, bias }),
    predict: (table) => float32Scores(transformTable(prep, table, 'predict'), weights, bias, sigmoid),
    params: { ...p, optimizer: 'lbfgs' },
    history,
    info: {
      iterations: result.iterations,
      converged: result.converged ? 1 : 0,
      encodedFeatures: width,
      rows: input.train.rows,
      /** The penalised objective at the optimum (unit-scale target for regression). */
      objective: result.value,
    },
  };
}

function resolveParams(params: Partial<LinearParams>, inputSeed: number | undefined): LinearParams {
  const bad = (message: string) => new AppError('VALIDATION_FAILED', message);
  for (const key of Object.keys(params)) {
    // Parameters arrive from pipeline files too: a typo must fail rather than train silently with a default.
    if (!Object.hasOwn(DEFAULT_LINEAR_PARAMS, key)) {
      throw bad(`unknown logistic regression parameter '${key}' (known: ${Object.keys(DEFAULT_LINEAR_PARAMS).join(', ')})`);
    }
  }
  const d = DEFAULT_LINEAR_PARAMS;
  const p: LinearParams = {
    l2: params.l2 ?? d.l2,
    maxIterations: params.maxIterations ?? d.maxIterations,
    tolerance: params.tolerance ?? d.tolerance,
    seed: params.seed ?? inputSeed ?? d.seed,
  };
  if (typeof p.l2 !== 'number' || !(p.l2 >= 0) || !Number.isFinite(p.l2))
    throw bad(`l2 must be a finite number ≥ 0, got ${p.l2}`);
  if (!Number.isInteger(p.maxIterations) || p.maxIterations < 1)
    throw bad(`maxIterations must be an integer ≥ 1, got ${p.maxIterations}`);
  if (typeof p.tolerance !== 'number' || !(p.tolerance > 0)) throw bad(`tolerance must be > 0, got ${p.tolerance}`);
  if (!Number.isInteger(p.seed)) throw bad(`seed must be an integer, got ${p.seed}`);
  return p;
}

function penalty(coef: Float64Array, width: number, l2: number): number {
  let sum = 0;
  for (let j = 0; j < width; j++) sum += (coef[j] as number) ** 2;
  return 0.5 * l2 * sum;
}

function baseLogit(data: LinearData): number {
  let rate = 0;
  const { y, rowWeights } = data;
  for (let i = 0; i < y.length; i++) rate += (rowWeights ? (rowWeights[i] as number) : 1 / y.length) * (y[i] as number);
  // Weights can leave one class with no mass; keep the start finite and let the optimiser walk from there.
  const clamped = Math.min(Math.max(rate, 1e-9), 1 - 1e-9);
  return Math.log(clamped / (1 - clamped));
}
