import type { Task } from '../training-types.ts';
import type { BootstrapOptions, Interval } from './bootstrap.ts';
import type { SegmentSpec } from './segments.ts';

export interface EvaluateInput {
  task: Task;
  /** Binary: 0/1. Regression: the true values. */
  labels: Float64Array;
  /** Binary: P(label = 1) in [0, 1]. Regression: the predictions. */
  scores: Float64Array;
  /** Optional per-row weights (finite, ≥ 0). */
  weights?: Float64Array;
  /** Binary: predicted positive when score ≥ threshold. Default 0.5. */
  threshold?: number;
  /** Binary: equal-width bins for ECE. Default 10. */
  calibrationBins?: number;
  segments?: SegmentSpec[];
  /** Segments smaller than this are reported but left out of maxGap (their metrics are noise). Default 100. */
  minSegmentRows?: number;
  /** Percentile intervals for the overall metrics; none when omitted. */
  bootstrap?: BootstrapOptions;
}

export interface SegmentMetrics {
  column: string;
  /** The segment's value; null for missing values. */
  value: string | null;
  rows: number;
  metrics: Record<string, number>;
}

export interface EvaluationResult {
  overall: Record<string, number>;
  intervals: Record<string, Interval>;
  segments: SegmentMetrics[];
  /**
   * Keyed `<column>.<metric>`: max − min of the metric over that column's segments with at least
   * `minSegmentRows` rows. Present only when two or more such segments have the metric defined.
   */
  maxGap: Record<string, number>;
}
