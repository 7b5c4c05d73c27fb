import type { DesignMatrix } from '../preprocessing/design-matrix.ts';

export type LossKind = 'logistic' | 'squared';

/** Rows as the optimiser sees them. Coefficient vectors are [w_0 … w_{width-1}, bias]. */
export interface LinearData {
  x: DesignMatrix;
  /** 0/1 labels for the logistic loss; the (standardised) target for the squared loss. */
  y: Float64Array;
  /** Per-row weights summing to 1; undefined means 1/rows each. */
  rowWeights: Float64Array | undefined;
}

/**
 * Weighted mean loss (log loss, or squared error), without any penalty. When `gradient` is given, its
 * derivative with respect to the coefficients is written into it. One pass over the rows that touches
 * only the numeric values and the one active column per categorical feature, never the one-hot zeros.
 */
export function meanLoss(data: LinearData, kind: LossKind, coef: Float64Array, gradient?: Float64Array): number {
  const { rows, numericCount: k, numeric, categoricalCount: c, hot, width } = data.x;
  const { y, rowWeights } = data;
  const uniform = 1 / rows;
  const bias = coef[width] as number;
  const logistic = kind === 'logistic';
  gradient?.fill(0);
  let total = 0;
  let biasGradient = 0;
  for (let i = 0; i < rows; i++) {
    const base = i * k;
    const hotBase = i * c;
    let eta = bias;
    for (let j = 0; j < k; j++) eta += (numeric[base + j] as number) * (coef[j] as number);
    for (let q = 0; q < c; q++) eta += coef[hot[hotBase + q] as number] as number;
    const target = y[i] as number;
    const weight = rowWeights === undefined ? uniform : (rowWeights[i] as number);
    let slope: number;
    if (logistic) {
      // Stable softplus(η) − yη and σ(η) − y from a single exp(−|η|).
      const e = Math.exp(-Math.abs(eta));
      total += weight * (Math.max(eta, 0) + Math.log1p(e) - target * eta);
      slope = (eta >= 0 ? 1 / (1 + e) : e / (1 + e)) - target;
    } else {
      const r = eta - target;
      total += weight * r * r;
      slope = 2 * r;
    }
    if (gradient === undefined) continue;
    const r = weight * slope;
    if (r === 0) continue;
    for (let j = 0; j < k; j++) gradient[j] = (gradient[j] as number) + r * (numeric[base + j] as number);
    for (let q = 0; q < c; q++) {
      const column = hot[hotBase + q] as number;
      gradient[column] = (gradient[column] as number) + r;
    }
    biasGradient += r;
  }
  if (gradient !== undefined) gradient[width] = biasGradient;
  return total;
}

/** Adds the L2 penalty λ/2·‖w‖² (the bias is not penalised) to a mean loss and its gradient. */
export function penalised(data: LinearData, kind: LossKind, l2: number) {
  return (coef: Float64Array, gradient: Float64Array): number => {
    let value = meanLoss(data, kind, coef, gradient);
    const width = data.x.width;
    for (let j = 0; j < width; j++) {
      const w = coef[j] as number;
      value += 0.5 * l2 * w * w;
      gradient[j] = (gradient[j] as number) + l2 * w;
    }
    return value;
  };
}
