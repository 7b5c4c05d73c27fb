import { identityOrder, type MetricSuite, permute, weightAt } from './metric-suite.ts';
import { sortByScore } from './sort-by-score.ts';

export const binaryMetricNames = [
  'auc',
  'log_loss',
  'accuracy',
  'precision',
  'recall',
  'f1',
  'ece',
  'brier',
  'positive_rate',
  'predicted_positive_rate',
] as const;

/** Log loss clips probabilities so a confident miss costs -log(1e-15) ≈ 34.5 instead of infinity. */
export const probabilityClip = 1e-15;

export interface BinaryMetricOptions {
  /** Per-row weights (≥ 0); every metric is a weighted average or weighted count. */
  weights?: Float64Array;
  /** A row is predicted positive when its score is ≥ threshold (the ONNX `label` output rule). Default 0.5. */
  threshold?: number;
  /** Equal-width calibration bins over [0, 1] for ECE. Default 10. */
  calibrationBins?: number;
}

/**
 * Calibration bin of p: bin b holds b/bins ≤ p < (b+1)/bins, the last bin also holds 1. The edges
 * are compared as the doubles b/bins, so a score of exactly 0.3 lands in bin 3 (floor(0.3*10)
 * alone can be off by one at edges).
 */
export function calibrationBin(p: number, bins: number): number {
  let b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
  if (b > 0 && p < b / bins) b--;
  else if (b < bins - 1 && p >= (b + 1) / bins) b++;
  return b;
}

/** Validated inputs in; see evaluate() for the checks. */
export function binarySuite(labels: Float64Array, scores: Float64Array, options: BinaryMetricOptions = {}): MetricSuite {
  const { weights, threshold = 0.5, calibrationBins = 10 } = options;
  const n = labels.length;
  // Sorted once: AUC over any subset or resample is then a linear walk over tie groups.
  const order = sortByScore(scores);
  const label = permute(labels, order);
  const score = permute(scores, order);
  const weight = weights ? permute(weights, order) : undefined;
  const loss = new Float64Array(n);
  const bin = new Uint16Array(n);
  for (let k = 0; k < n; k++) {
    const p = score[k] as number;
    // Clip the probability given to the true class, so a confident miss costs exactly -log(1e-15) either way.
    const truth = label[k] === 1 ? p : 1 - p;
    loss[k] = -Math.log(Math.min(1 - probabilityClip, Math.max(probabilityClip, truth)));
    bin[k] = calibrationBin(p, calibrationBins);
  }

  function compute(positions: Uint32Array, multiplicity?: Uint32Array): Record<string, number> {
    let total = 0;
    let positives = 0;
    let lossSum = 0;
    let brierSum = 0;
    let truePos = 0;
    let falsePos = 0;
    let predictedPos = 0;
    let correct = 0;
    const binScore = new Float64Array(calibrationBins);
    const binLabel = new Float64Array(calibrationBins);
    // AUC = P(score of a positive > score of a negative), ties counting one half (the ROC trapezoid).
    let aucSum = 0;
    let negativesBelow = 0;
    let groupPos = 0;
    let groupNeg = 0;
    let groupScore = Number.NaN;
    for (let k = 0; k < positions.length; k++) {
      const i = positions[k] as number;
      const w = weightAt(i, weight, multiplicity);
      if (w === 0) continue;
      const y = label[i] as number;
      const p = score[i] as number;
      if (p !== groupScore) {
        aucSum += groupPos * (negativesBelow + 0.5 * groupNeg);
        negativesBelow += groupNeg;
        groupPos = 0;
        groupNeg = 0;
        groupScore = p;
      }
      const predicted = p >= threshold;
      total += w;
      lossSum += w * (loss[i] as number);
      brierSum += w * (p - y) * (p - y);
      const b = bin[i] as number;
      binScore[b] = (binScore[b] as number) + w * p;
      binLabel[b] = (binLabel[b] as number) + w * y;
      if (predicted) predictedPos += w;
      if (predicted === (y === 1)) correct += w;
      if (y === 1) {
        positives += w;
        groupPos += w;
        if (predicted) truePos += w;
      } else {
        groupNeg += w;
        if (predicted) falsePos += w;
      }
    }
    aucSum += groupPos * (negativesBelow + 0.5 * groupNeg);
    if (total === 0) return Object.fromEntries(binaryMetricNames.map((name) => [name, Number.NaN]));
    const negatives = total - positives;
    const falseNeg = positives - truePos;
    // Σ_b (W_b / W)·|mean score_b − mean label_b| simplifies to Σ_b |Σ w·p − Σ w·y| / W.
    let calibrationGap = 0;
    for (let b = 0; b < calibrationBins; b++) calibrationGap += Math.abs((binScore[b] as number) - (binLabel[b] as number));
    // Precision, recall and F1 with nothing to divide are 0, as scikit-learn reports them.
    const f1Denominator = 2 * truePos + falsePos + falseNeg;
    return {
      auc: positives > 0 && negatives > 0 ? aucSum / (positives * negatives) : Number.NaN,
      log_loss: lossSum / total,
      accuracy: correct / total,
      precision: predictedPos > 0 ? truePos / predictedPos : 0,
      recall: positives > 0 ? truePos / positives : 0,
      f1: f1Denominator > 0 ? (2 * truePos) / f1Denominator : 0,
      ece: calibrationGap / total,
      brier: brierSum / total,
      positive_rate: positives / total,
      predicted_positive_rate: predictedPos / total,
    };
  }

  return { names: binaryMetricNames, order, all: identityOrder(n), compute };
}
