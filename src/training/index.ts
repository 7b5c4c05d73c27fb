export {
  binaryMetrics,
  type EvaluateInput,
  type EvaluationResult,
  evaluate,
  metricsForTracking,
  regressionMetrics,
  type SegmentMetrics,
  type SegmentSpec,
} from './evaluation/index.ts';
export { GBDT_DEFAULTS, type GbdtParams, trainGbdt } from './gbdt/index.ts';
export { DEFAULT_LINEAR_PARAMS, type LinearParams, trainLogisticRegression } from './linear/index.ts';
export { modelInputs, scoreOnnx } from './onnx-scoring.ts';
export {
  type DesignMatrix,
  fitPreprocessing,
  type Preprocessing,
  preprocessingOnnx,
  transformTable,
} from './preprocessing/index.ts';
export { labelColumn, type ReadTableRequest, readTable } from './read-table.ts';
export type {
  Column,
  FeatureSpec,
  Table,
  Task,
  TrainedModel,
  TrainInput,
  TrainingCurvePoint,
} from './training-types.ts';
