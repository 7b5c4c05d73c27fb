import { AppError } from '../../core/index.ts';
import { ATTR_TYPES, elemTypeCode, ModelProto } from './onnx-proto.ts';
import type { Dim, OpsetSpec } from './onnx-signature.ts';

export interface ValueSpec {
  name: string;
  dtype: string;
  shape: Dim[];
}

export type InitializerDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8';

export interface InitializerSpec {
  name: string;
  dtype: InitializerDtype;
  dims: number[];
  values: number[];
}

/**
 * Bare numbers are INT when integral and FLOAT otherwise; use the wrapped forms when an
 * operator needs the other kind (e.g. `{ float: 1 }` for LeakyRelu's alpha). Empty arrays are INTS.
 */
export type AttributeValue =
  | number
  | string
  | number[]
  | string[]
  | { float: number }
  | { int: number }
  | { floats: number[] }
  | { ints: number[] }
  | { tensor: Omit<InitializerSpec, 'name'> & { name?: string } };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  opsets?: OpsetSpec[];
  irVersion?: number;
  producer?: string;
  producerVersion?: string;
  graphName?: string;
  metadata?: Record<string, string>;
}

const misuse = (message: string): AppError => new AppError('VALIDATION_FAILED', message);
const utf8 = new TextEncoder();

/** Serialises a graph description into ONNX ModelProto bytes. */
export function buildOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const model = {
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producer ?? 'keel',
    producerVersion: spec.producerVersion ?? '',
    opsetImport: spec.opsets ?? [{ domain: '', version: 17 }],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName ?? 'main',
      node: spec.nodes.map(encodeNode),
      initializer: (spec.initializers ?? []).map(encodeTensor),
      input: spec.inputs.map(encodeValueInfo),
      output: spec.outputs.map(encodeValueInfo),
    },
  };
  const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
  // Copy out of protobufjs's pooled buffer so callers get a standalone, offset-0 array.
  return new Uint8Array(bytes);
}

function encodeValueInfo(value: ValueSpec) {
  const elemType = elemTypeCode(value.dtype);
  if (elemType === undefined) throw misuse(`unsupported dtype '${value.dtype}' for '${value.name}'`);
  const dim = value.shape.map((d) => {
    if (d === null) return {};
    if (typeof d === 'string') return { dimParam: d };
    if (!Number.isInteger(d) || d < 0) throw misuse(`invalid dimension ${d} for '${value.name}'`);
    return { dimValue: d };
  });
  return { name: value.name, type: { tensorType: { elemType, shape: { dim } } } };
}

function encodeNode(node: NodeSpec, index: number) {
  return {
    opType: node.opType,
    name: node.name ?? `${node.opType}_${index}`,
    domain: node.domain ?? '',
    input: node.inputs,
    output: node.outputs,
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => encodeAttribute(name, value)),
  };
}

function encodeAttribute(name: string, value: AttributeValue) {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: ATTR_TYPES.INT, i: value } : { name, type: ATTR_TYPES.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: ATTR_TYPES.STRING, s: utf8.encode(value) };
  if (Array.isArray(value)) {
    const list: unknown[] = value;
    if (list.every((v) => typeof v === 'string')) {
      if (list.length > 0) return { name, type: ATTR_TYPES.STRINGS, strings: list.map((s) => utf8.encode(s)) };
    } else if (!list.every((v) => typeof v === 'number')) {
      throw misuse(`attribute '${name}' mixes strings and numbers`);
    }
    const nums = list as number[];
    return nums.every(Number.isInteger)
      ? { name, type: ATTR_TYPES.INTS, ints: nums }
      : { name, type: ATTR_TYPES.FLOATS, floats: nums };
  }
  if ('float' in value) return { name, type: ATTR_TYPES.FLOAT, f: value.float };
  if ('int' in value) return { name, type: ATTR_TYPES.INT, i: checkInt(name, value.int) };
  if ('floats' in value) return { name, type: ATTR_TYPES.FLOATS, floats: value.floats };
  if ('ints' in value) return { name, type: ATTR_TYPES.INTS, ints: value.ints.map((v) => checkInt(name, v)) };
  return { name, type: ATTR_TYPES.TENSOR, t: encodeTensor({ name: '', ...value.tensor }) };
}

function checkInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw misuse(`'${name}' needs integers, got ${v}`);
  return v;
}

const WIDTH: Record<InitializerDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1 };

/** Weights go into raw_data (little-endian, per the ONNX spec): compact and fast to load. */
function encodeTensor(t: InitializerSpec) {
  const dataType = elemTypeCode(t.dtype);
  const width = WIDTH[t.dtype];
  if (dataType === undefined || width === undefined) throw misuse(`unsupported initializer dtype '${t.dtype}'`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.values.length) {
    throw misuse(`initializer '${t.name}' has ${t.values.length} values but dims [${t.dims.join(', ')}] need ${count}`);
  }
  const raw = new Uint8Array(count * width);
  const view = new DataView(raw.buffer);
  t.values.forEach((v, i) => {
    const at = i * width;
    if (t.dtype === 'float32') view.setFloat32(at, v, true);
    else if (t.dtype === 'float64') view.setFloat64(at, v, true);
    else if (t.dtype === 'int32') view.setInt32(at, checkInt(t.name, v), true);
    else if (t.dtype === 'uint8') view.setUint8(at, checkInt(t.name, v));
    else view.setBigInt64(at, BigInt(checkInt(t.name, v)), true);
  });
  return { name: t.name, dims: t.dims, dataType, rawData: raw };
}

export interface LinearModelOptions {
  features: number;
  weights: number[];
  bias: number;
  inputName?: string;
  outputName?: string;
  sigmoid?: boolean;
}

/** y = x·W + b (optionally through a sigmoid), with x: float32 [batch, features] and y: [batch, 1]. */
export function buildLinearModel(opts: LinearModelOptions): Uint8Array {
  const { features, weights, bias, sigmoid = false } = opts;
  const x = opts.inputName ?? 'x';
  const y = opts.outputName ?? 'y';
  if (!Number.isInteger(features) || features < 1) throw misuse(`features must be a positive integer, got ${features}`);
  if (weights.length !== features) throw misuse(`expected ${features} weights, got ${weights.length}`);
  const affineOut = sigmoid ? 'linear.logit' : y;
  const nodes: NodeSpec[] = [
    { opType: 'MatMul', inputs: [x, 'linear.weight'], outputs: ['linear.xw'], name: 'linear.matmul' },
    { opType: 'Add', inputs: ['linear.xw', 'linear.bias'], outputs: [affineOut], name: 'linear.add' },
  ];
  if (sigmoid) nodes.push({ opType: 'Sigmoid', inputs: [affineOut], outputs: [y], name: 'linear.sigmoid' });
  return buildOnnxModel({
    inputs: [{ name: x, dtype: 'float32', shape: ['batch', features] }],
    outputs: [{ name: y, dtype: 'float32', shape: ['batch', 1] }],
    nodes,
    initializers: [
      { name: 'linear.weight', dtype: 'float32', dims: [features, 1], values: weights },
      { name: 'linear.bias', dtype: 'float32', dims: [1], values: [bias] },
    ],
  });
}
