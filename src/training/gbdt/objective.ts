import type { Task } from '../training-types.ts';

const EPS = 1e-15;

export interface Objective {
  /** The constant score every prediction starts from (ONNX base_values). */
  initialScore(y: Float64Array, w: Float64Array | undefined): number;
  /**
   * Writes interleaved [gradient, hessian] per row into `gh` and returns the mean loss of `scores`,
   * in one pass because both need the same per-row transcendental work.
   */
  gradients(scores: Float64Array, y: Float64Array, w: Float64Array | undefined, gh: Float32Array): number;
  /** Mean loss (validation rows). */
  loss(scores: Float64Array, y: Float64Array): number;
}

function weightedMean(y: Float64Array, w: Float64Array | undefined): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? (w[i] as number) : 1;
    s += (y[i] as number) * wi;
    sw += wi;
  }
  return sw > 0 ? s / sw : 0;
}

function meanOf(n: number, term: (i: number) => number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += term(i);
  return n > 0 ? s / n : 0;
}

const sigmoid = (s: number): number => 1 / (1 + Math.exp(-s));

const logLoss: Objective = {
  initialScore(y, w) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, weightedMean(y, w)));
    return Math.fround(Math.log(p / (1 - p)));
  },
  gradients(scores, y, w, gh) {
    let loss = 0;
    let sw = 0;
    for (let i = 0; i < scores.length; i++) {
      const p = sigmoid(scores[i] as number);
      const wi = w ? (w[i] as number) : 1;
      const yi = y[i] as number;
      gh[2 * i] = (p - yi) * wi;
      // A floor keeps confident rows from producing zero-hessian leaves with exploding values.
      gh[2 * i + 1] = Math.max(p * (1 - p), 1e-16) * wi;
      loss -= wi * Math.log(Math.min(1 - EPS, Math.max(EPS, yi === 1 ? p : 1 - p)));
      sw += wi;
    }
    return sw > 0 ? loss / sw : 0;
  },
  loss(scores, y) {
    return meanOf(scores.length, (i) => {
      const p = Math.min(1 - EPS, Math.max(EPS, sigmoid(scores[i] as number)));
      return y[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
    });
  },
};

const squaredError: Objective = {
  initialScore(y, w) {
    return Math.fround(weightedMean(y, w));
  },
  gradients(scores, y, w, gh) {
    let loss = 0;
    let sw = 0;
    for (let i = 0; i < scores.length; i++) {
      const wi = w ? (w[i] as number) : 1;
      const r = (scores[i] as number) - (y[i] as number);
      gh[2 * i] = r * wi;
      gh[2 * i + 1] = wi;
      loss += wi * r * r;
      sw += wi;
    }
    return sw > 0 ? loss / sw : 0;
  },
  loss(scores, y) {
    return meanOf(scores.length, (i) => ((scores[i] as number) - (y[i] as number)) ** 2);
  },
};

export const objectiveFor = (task: Task): Objective => (task === 'binary' ? logLoss : squaredError);
