import { AppError } from '../../core/index.ts';
import {
  type DimensionObj,
  elemTypeName,
  type ModelObj,
  ModelSignatureView,
  type TypeObj,
  type ValueInfoObj,
} from './onnx-proto.ts';

export type Dim = number | string | null;

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: Dim[];
  /** Set when the model declares a tensor without any shape, so `[]` must not be read as a scalar. */
  rankUnknown?: boolean;
}

export interface OpsetSpec {
  domain: string;
  version: number;
}

export interface OnnxSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  opsets: OpsetSpec[];
  producer: string;
}

// A protobuf message cannot exceed 2 GiB, so larger input cannot be a single-file model.
const MAX_MODEL_BYTES = 2 ** 31 - 1;

const invalid = (message: string): AppError => new AppError('INVALID_MODEL', message);

/** Parses ONNX ModelProto bytes into their I/O signature; any malformed input yields INVALID_MODEL. */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  if (!(bytes instanceof Uint8Array)) throw invalid('model must be provided as bytes');
  if (bytes.length === 0) throw invalid('model is empty');
  if (bytes.length > MAX_MODEL_BYTES) throw invalid('model exceeds the 2 GiB protobuf limit');
  try {
    return toSignature(decode(bytes));
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw invalid(`model could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decode(bytes: Uint8Array): ModelObj {
  try {
    return ModelSignatureView.toObject(ModelSignatureView.decode(bytes), { longs: Number }) as ModelObj;
  } catch (e) {
    // protobufjs reports truncation and garbage as plain Errors (or RangeError on overflow).
    throw invalid(`not a valid ONNX model: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function toSignature(model: ModelObj): OnnxSignature {
  // Every real exporter sets ir_version; its absence is the cheapest tell of non-ONNX protobuf.
  if (!model.irVersion || model.irVersion < 1) throw invalid('not a valid ONNX model: missing ir_version');
  const graph = model.graph;
  if (!graph) throw invalid('ONNX model has no graph');
  // Required since IR v3 and refused by onnxruntime without it; also catches truncated files.
  if (!model.opsetImport?.length) throw invalid('ONNX model declares no opset_import');
  // Pre-IR4 exporters list every weight as a graph input too; callers only feed the rest.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((v) => !weights.has(v.name ?? '')).map(toTensorSpec);
  const outputs = (graph.output ?? []).map(toTensorSpec);
  if (outputs.length === 0) throw invalid('ONNX graph declares no outputs');
  for (const spec of [...inputs, ...outputs]) {
    if (spec.name === '') throw invalid('ONNX graph has an unnamed input or output');
  }
  const opsets = (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 }));
  return { inputs, outputs, opsets, producer: model.producerName ?? '' };
}

function toTensorSpec(value: ValueInfoObj): TensorSpec {
  const name = value.name ?? '';
  const tensor = value.type?.tensorType ?? value.type?.sparseTensorType;
  if (!tensor) return { name, dtype: describeType(value.type), shape: [] };
  const dtype = describeType(value.type);
  if (!tensor.shape) return { name, dtype, shape: [], rankUnknown: true };
  return { name, dtype, shape: (tensor.shape.dim ?? []).map(toDim) };
}

function toDim(dim: DimensionObj): Dim {
  if (dim.dimValue !== undefined && dim.dimValue >= 0) return dim.dimValue;
  if (dim.dimParam) return dim.dimParam;
  return null;
}

/** Readable type string; nested tensors collapse to their element type, e.g. seq(map(int64,float32)). */
function describeType(type: TypeObj | undefined): string {
  if (!type) return 'unknown';
  if (type.tensorType) return elemTypeName(type.tensorType.elemType);
  if (type.sparseTensorType) return `sparse_tensor(${elemTypeName(type.sparseTensorType.elemType)})`;
  if (type.sequenceType) return `seq(${describeType(type.sequenceType.elemType)})`;
  if (type.mapType) {
    return `map(${elemTypeName(type.mapType.keyType)},${describeType(type.mapType.valueType)})`;
  }
  if (type.optionalType) return `optional(${describeType(type.optionalType.elemType)})`;
  return 'unknown';
}

const DTYPE_ALIASES: Record<string, string> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  boolean: 'bool',
};

const normalizeDtype = (dtype: string): string => {
  const lower = dtype.trim().toLowerCase();
  return DTYPE_ALIASES[lower] ?? lower;
};

const formatShape = (shape: Dim[]): string => `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/**
 * Lists human-readable differences between a declared signature and the model's own.
 * Symbolic and unknown dims match anything; an empty list means compatible.
 */
export function compareSignature(declared: { inputs: TensorSpec[]; outputs: TensorSpec[] }, actual: OnnxSignature): string[] {
  const problems = [
    ...compareSide('input', declared.inputs, actual.inputs),
    ...compareSide('output', declared.outputs, actual.outputs),
  ];
  const declaredInputs = new Set(declared.inputs.map((s) => s.name));
  for (const spec of actual.inputs) {
    // Extra outputs are harmless to callers, but an extra input would never be fed.
    if (!declaredInputs.has(spec.name)) problems.push(`extra input '${spec.name}': in the model but not declared`);
  }
  return problems;
}

function compareSide(kind: 'input' | 'output', declared: TensorSpec[], actual: TensorSpec[]): string[] {
  const byName = new Map(actual.map((s) => [s.name, s]));
  const problems: string[] = [];
  for (const want of declared) {
    const have = byName.get(want.name);
    if (!have) {
      problems.push(`missing ${kind} '${want.name}': declared but not in the model`);
      continue;
    }
    const label = `${kind} '${want.name}'`;
    if (normalizeDtype(want.dtype) !== normalizeDtype(have.dtype)) {
      problems.push(`${label}: dtype mismatch (declared ${want.dtype}, model has ${have.dtype})`);
    }
    problems.push(...compareShapes(label, want, have));
  }
  return problems;
}

function compareShapes(label: string, want: TensorSpec, have: TensorSpec): string[] {
  if (want.rankUnknown || have.rankUnknown) return [];
  if (want.shape.length !== have.shape.length) {
    return [`${label}: rank mismatch (declared ${formatShape(want.shape)}, model has ${formatShape(have.shape)})`];
  }
  const problems: string[] = [];
  want.shape.forEach((w, i) => {
    const h = have.shape[i];
    if (typeof w === 'number' && typeof h === 'number' && w !== h) {
      problems.push(`${label}: shape mismatch at dim ${i} (declared ${w}, model has ${h})`);
    }
  });
  return problems;
}
