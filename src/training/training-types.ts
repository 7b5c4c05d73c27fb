/**
 * The contract between training data, the built-in trainers and the ONNX files they write.
 *
 * Built-in models share one ONNX signature so serving treats them alike:
 * - inputs: one tensor per feature, named after it; numeric `float32 [batch, 1]` (NaN = missing),
 *   categorical `string [batch, 1]` (empty string = missing). Preprocessing lives in the graph.
 * - binary outputs: `probability` float32 [batch, 1] (P(label = 1)) and `label` int64 [batch, 1]
 *   (probability ≥ 0.5); regression output: `prediction` float32 [batch, 1].
 */

/** Numbers are NaN when missing; strings are null when missing. */
export type Column = Float64Array | (string | null)[];

/** Column-major rows, as trainers and metrics read them (no object per row). */
export interface Table {
  rows: number;
  columns: Record<string, Column>;
}

export interface FeatureSpec {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Linear models: one column per seen category, or a fixed number of hash buckets. Trees use ordinal codes. */
  encoding?: 'onehot' | 'hashed';
  /** Hashed encoding: number of buckets. */
  buckets?: number;
  /** One-hot: keep the most frequent categories; the rest share the unknown column. */
  maxCategories?: number;
}

export type Task = 'binary' | 'regression';

export interface TrainingCurvePoint {
  step: number;
  train: number;
  valid?: number;
}

export interface TrainedModel {
  kind: 'logistic_regression' | 'gbdt';
  task: Task;
  features: FeatureSpec[];
  /** A self-contained ONNX model with the signature above. */
  onnx: Uint8Array;
  /**
   * The trainer's own predictions (P(label = 1) for binary, the value for regression), computed
   * with the same float32 arithmetic as the ONNX graph so the two agree to 1e-5.
   */
  predict(table: Table): Float64Array;
  /** Hyperparameters as used (defaults filled in), for tracking. */
  params: Record<string, string | number | boolean>;
  /** Loss per iteration on the training set and the validation set when given. */
  history: TrainingCurvePoint[];
  /** Facts about the fit: iterations, trees, best iteration, features after encoding. */
  info: Record<string, number>;
}

export interface TrainInput {
  train: Table;
  /** Validation rows for early stopping (GBDT) and the curve. */
  valid?: Table;
  label: string;
  features: FeatureSpec[];
  task: Task;
  /** Optional per-row weights of `train`. */
  weights?: Float64Array;
  seed?: number;
}
