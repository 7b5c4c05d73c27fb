import { identityOrder, type MetricSuite, weightAt } from './metric-suite.ts';

export const regressionMetricNames = ['rmse', 'mae', 'r2'] as const;

/** Validated inputs in; see evaluate() for the checks. */
export function regressionSuite(labels: Float64Array, predictions: Float64Array, weights?: Float64Array): MetricSuite {
  const n = labels.length;
  // R² needs Σw(y − ȳ)² in one pass; shifting by the overall mean first keeps Σw(y−c)² − (Σw(y−c))²/W
  // free of cancellation for any subset whose mean is near it (R² is shift-invariant).
  let shift = 0;
  for (let i = 0; i < n; i++) shift += labels[i] as number;
  shift /= n;

  function compute(positions: Uint32Array, multiplicity?: Uint32Array): Record<string, number> {
    let total = 0;
    let squaredError = 0;
    let absoluteError = 0;
    let centered = 0;
    let centeredSquares = 0;
    for (let k = 0; k < positions.length; k++) {
      const i = positions[k] as number;
      const w = weightAt(i, weights, multiplicity);
      if (w === 0) continue;
      const y = labels[i] as number;
      const error = y - (predictions[i] as number);
      total += w;
      squaredError += w * error * error;
      absoluteError += w * Math.abs(error);
      centered += w * (y - shift);
      centeredSquares += w * (y - shift) * (y - shift);
    }
    if (total === 0) return { rmse: Number.NaN, mae: Number.NaN, r2: Number.NaN };
    const totalSquares = centeredSquares - (centered * centered) / total;
    // Constant labels leave R² undefined; what is left of Σw(y−ȳ)² then is rounding noise.
    const constant = totalSquares <= 1e-12 * centeredSquares;
    return {
      rmse: Math.sqrt(squaredError / total),
      mae: absoluteError / total,
      r2: constant ? Number.NaN : 1 - squaredError / totalSquares,
    };
  }

  const order = identityOrder(n);
  return { names: regressionMetricNames, order, all: order, compute };
}
