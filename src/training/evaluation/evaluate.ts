import { binarySuite } from './binary-metrics.ts';
import { bootstrapIntervals } from './bootstrap.ts';
import type { EvaluateInput, EvaluationResult, SegmentMetrics } from './evaluation-types.ts';
import type { MetricSuite } from './metric-suite.ts';
import { regressionSuite } from './regression-metrics.ts';
import { groupRows } from './segments.ts';
import { validateEvaluationInput } from './validate-evaluation-input.ts';

/** Metrics for a binary classifier or a regressor, overall, per segment, with optional bootstrap intervals. */
export function evaluate(input: EvaluateInput): EvaluationResult {
  validateEvaluationInput(input);
  const { task, labels, scores, weights, segments = [], minSegmentRows = 100 } = input;
  const suite: MetricSuite =
    task === 'binary'
      ? binarySuite(labels, scores, { weights, threshold: input.threshold, calibrationBins: input.calibrationBins })
      : regressionSuite(labels, scores, weights);

  const overall = suite.compute(suite.all);
  const intervals = input.bootstrap ? bootstrapIntervals(suite, input.bootstrap) : {};
  const segmentResults: SegmentMetrics[] = [];
  const maxGap: Record<string, number> = {};
  for (const spec of segments) {
    const groups = groupRows(spec, suite.order).map((group) => ({
      column: spec.column,
      value: group.value,
      rows: group.positions.length,
      metrics: suite.compute(group.positions),
    }));
    for (const group of groups) segmentResults.push(group);
    Object.assign(maxGap, segmentGaps(spec.column, groups, suite.names, minSegmentRows));
  }
  return { overall, intervals, segments: segmentResults, maxGap };
}

/** Spread of each metric across one column's segments that are big enough to compare. */
export function segmentGaps(
  column: string,
  segments: SegmentMetrics[],
  names: readonly string[],
  minSegmentRows: number,
): Record<string, number> {
  const gaps: Record<string, number> = {};
  const eligible = segments.filter((segment) => segment.rows >= minSegmentRows);
  for (const name of names) {
    // A loop, not Math.max(...values): a column can have more segments than a call has room for arguments.
    let defined = 0;
    let max = Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    for (const segment of eligible) {
      const value = segment.metrics[name] ?? Number.NaN;
      if (!Number.isFinite(value)) continue;
      defined++;
      max = Math.max(max, value);
      min = Math.min(min, value);
    }
    if (defined >= 2) gaps[`${column}.${name}`] = max - min;
  }
  return gaps;
}

/** Overall binary metrics (validated like evaluate()): auc, log_loss, accuracy, precision, recall, f1, ece, brier, rates. */
export function binaryMetrics(
  labels: Float64Array,
  scores: Float64Array,
  options: Pick<EvaluateInput, 'weights' | 'threshold' | 'calibrationBins'> = {},
): Record<string, number> {
  return evaluate({ task: 'binary', labels, scores, ...options }).overall;
}

/** Overall regression metrics (validated like evaluate()): rmse, mae, r2. */
export function regressionMetrics(
  labels: Float64Array,
  predictions: Float64Array,
  weights?: Float64Array,
): Record<string, number> {
  return evaluate({ task: 'regression', labels, scores: predictions, weights }).overall;
}
