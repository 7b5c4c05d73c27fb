export { type BinaryMetricOptions, binaryMetricNames, binarySuite, calibrationBin, probabilityClip } from './binary-metrics.ts';
export { type BootstrapOptions, bootstrapIntervals, type Interval, percentile, seededRandom } from './bootstrap.ts';
export { binaryMetrics, evaluate, regressionMetrics, segmentGaps } from './evaluate.ts';
export type { EvaluateInput, EvaluationResult, SegmentMetrics } from './evaluation-types.ts';
export type { MetricSuite } from './metric-suite.ts';
export { regressionMetricNames, regressionSuite } from './regression-metrics.ts';
export { groupRows, type SegmentGroup, type SegmentSpec } from './segments.ts';
export { keySafe, metricsForTracking, trackingKeyPattern } from './tracking-keys.ts';
