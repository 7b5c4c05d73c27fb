import { buildOnnxModel } from '../../registry/index.ts';
import type { DesignMatrix } from '../preprocessing/design-matrix.ts';
import type { Preprocessing } from '../preprocessing/fit-preprocessing.ts';
import { preprocessingOnnx } from '../preprocessing/preprocessing-onnx.ts';
import type { Task } from '../training-types.ts';

/** Names the graph's outputs take; features may not use them (an ONNX name is either an input or an output). */
export const OUTPUT_NAMES = ['probability', 'label', 'prediction'];

export interface LinearGraph {
  prep: Preprocessing;
  task: Task;
  /** One float32 weight per design-matrix column. */
  weights: Float32Array;
  /** float32 intercept. */
  bias: number;
}

/**
 * The whole model as ONNX: preprocessing → MatMul + Add; binary adds `probability` = Sigmoid(logit) and
 * `label` = int64(probability ≥ 0.5), regression's output is `prediction` = the affine value.
 */
export function buildLinearOnnx(model: LinearGraph): Uint8Array {
  const { prep, task, weights, bias } = model;
  const part = preprocessingOnnx(prep);
  const binary = task === 'binary';
  const affine = binary ? 'keel.linear.logit' : 'prediction';
  const nodes = [
    ...part.nodes,
    { opType: 'MatMul', inputs: [part.output, 'keel.linear.weight'], outputs: ['keel.linear.xw'], name: 'keel.linear.matmul' },
    { opType: 'Add', inputs: ['keel.linear.xw', 'keel.linear.bias'], outputs: [affine], name: 'keel.linear.add' },
  ];
  const initializers = [
    ...part.initializers,
    { name: 'keel.linear.weight', dtype: 'float32' as const, dims: [part.width, 1], values: Array.from(weights) },
    { name: 'keel.linear.bias', dtype: 'float32' as const, dims: [1], values: [bias] },
  ];
  const outputs = [{ name: affine, dtype: 'float32', shape: ['batch', 1] }];
  if (binary) {
    initializers.push({ name: 'keel.linear.threshold', dtype: 'float32', dims: [1], values: [0.5] });
    nodes.push(
      { opType: 'Sigmoid', inputs: [affine], outputs: ['probability'], name: 'keel.linear.sigmoid' },
      {
        opType: 'GreaterOrEqual',
        inputs: ['probability', 'keel.linear.threshold'],
        outputs: ['keel.linear.positive'],
        name: 'keel.linear.ge',
      },
      { opType: 'Cast', inputs: ['keel.linear.positive'], outputs: ['label'], name: 'keel.linear.label', attributes: { to: 7 } },
    );
    outputs.splice(
      0,
      1,
      { name: 'probability', dtype: 'float32', shape: ['batch', 1] },
      { name: 'label', dtype: 'int64', shape: ['batch', 1] },
    );
  }
  return buildOnnxModel({
    inputs: part.inputs,
    outputs,
    nodes,
    initializers,
    opsets: part.opsets,
    graphName: binary ? 'logistic_regression' : 'linear_regression',
    metadata: { 'keel.model': binary ? 'logistic_regression' : 'linear_regression', 'keel.task': task },
  });
}

/**
 * What the graph computes, in float32: the MatMul result rounded to float32, the bias added in float32,
 * then the sigmoid rounded to float32. Products of two float32 values are exact in double and the sum of
 * a row's few non-zero terms is rounded once, so only ORT's accumulation order (and its sigmoid
 * approximation) differ — far below 1e-5.
 */
export function float32Scores(x: DesignMatrix, weights: Float32Array, bias: number, sigmoid: boolean): Float64Array {
  const { rows, numericCount: k, numeric, categoricalCount: c, hot } = x;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += (numeric[i * k + j] as number) * (weights[j] as number);
    for (let q = 0; q < c; q++) sum += weights[hot[i * c + q] as number] as number;
    const z = Math.fround(Math.fround(sum) + bias);
    out[i] = sigmoid ? Math.fround(1 / (1 + Math.exp(-z))) : z;
  }
  return out;
}
