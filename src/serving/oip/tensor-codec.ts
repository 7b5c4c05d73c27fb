import * as ort from 'onnxruntime-node';
import { AppError } from '../../core/index.ts';
import type { TensorSpec } from '../../registry/index.ts';
import { isOipDatatype, type OipDatatype, oipDatatypeOf, oipDatatypes, ortTypeOf } from '../runtime/datatypes.ts';
import { fromFloat16Bits, toFloat16Bits } from '../runtime/float16.ts';

/** A tensor as a client sends it, before any checking (`$request_input`). */
export interface RequestTensor {
  name: string;
  shape: unknown;
  datatype: unknown;
  data: unknown;
  parameters?: Record<string, unknown>;
}

export type TensorValue = number | string | boolean;

/** `$response_output`: `data` is flat, row-major. */
export interface ResponseTensor {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: TensorValue[];
  parameters?: Record<string, unknown>;
}

/** The most dimensions a request tensor may have (ONNX Runtime itself has no smaller limit worth matching). */
const maxRank = 32;

const bad = (message: string): AppError => new AppError('VALIDATION_FAILED', message);

const intRanges: Partial<Record<OipDatatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};
const bigRanges: Partial<Record<OipDatatype, [bigint, bigint]>> = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};
const specialFloats: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** Checks a request tensor's shape, datatype and data and turns it into an ONNX Runtime tensor. */
export function decodeTensor(input: RequestTensor): ort.Tensor {
  if (!isOipDatatype(input.datatype)) {
    const shown = typeof input.datatype === 'string' ? `'${input.datatype.slice(0, 40)}'` : typeof input.datatype;
    throw bad(`${labelOf(input.name)}: unsupported datatype ${shown}; use one of ${oipDatatypes.join(', ')}`);
  }
  const shape = checkShape(input.name, input.shape);
  const values = flatten(input.name, input.data, shape);
  return new ort.Tensor(ortTypeOf(input.datatype), convert(input.name, input.datatype, values), shape);
}

// Error messages name the input; the label is made only when one is thrown (it cost every input a string).
const labelOf = (name: string): string => `input '${name}'`;

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length > maxRank) {
    throw bad(`${labelOf(name)}: shape must be an array of at most ${maxRank} dims`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw bad(`${labelOf(name)}: shape dims must be non-negative integers, got ${JSON.stringify(d)?.slice(0, 40)}`);
    }
  }
  return shape as number[];
}

const formatShape = (shape: readonly unknown[]): string => `[${shape.join(', ')}]`;

function holdsArray(data: unknown[]): boolean {
  for (let i = 0; i < data.length; i++) if (Array.isArray(data[i])) return true;
  return false;
}

/** Flat data must hold exactly the shape's element count; nested data must follow the shape level by level. */
function flatten(name: string, data: unknown, shape: number[]): unknown[] {
  if (!Array.isArray(data)) throw bad(`${labelOf(name)}: data must be an array`);
  let count = 1;
  for (const d of shape) count *= d;
  if (!holdsArray(data)) {
    if (data.length !== count) {
      throw bad(`${labelOf(name)}: shape ${formatShape(shape)} needs ${count} values, data has ${data.length}`);
    }
    return data;
  }
  const out: unknown[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw bad(`${labelOf(name)}: data is nested deeper than shape ${formatShape(shape)}`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw bad(`${labelOf(name)}: nested data does not match shape ${formatShape(shape)} at depth ${depth}`);
    }
    for (const child of node) walk(child, depth + 1);
  };
  walk(data, 0);
  return out;
}

// Hot path: plain loops into preallocated arrays, and no closures created per request (under tsx
// every named closure costs a defineProperty call, and TypedArray.from with a map function is slow).
function convert(name: string, datatype: OipDatatype, values: unknown[]): ort.Tensor.DataType {
  const n = values.length;
  switch (datatype) {
    case 'BYTES': {
      for (let i = 0; i < n; i++) if (typeof values[i] !== 'string') throw wrongElement(name, datatype, values, i, 'a string');
      return values as string[];
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw wrongElement(name, datatype, values, i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP16' ? new Uint16Array(n) : datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const x =
          typeof v === 'number' ? v : typeof v === 'string' && Object.hasOwn(specialFloats, v) ? specialFloats[v] : undefined;
        if (x === undefined) throw wrongElement(name, datatype, values, i, 'a number');
        out[i] = datatype === 'FP16' ? toFloat16Bits(x) : x;
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const [lo, hi] = bigRanges[datatype] as [bigint, bigint];
      const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const b = toBigInt(values[i]);
        if (b === undefined || b < lo || b > hi) throw wrongElement(name, datatype, values, i, `an integer in [${lo}, ${hi}]`);
        out[i] = b;
      }
      return out;
    }
    default: {
      const [lo, hi] = intRanges[datatype] as [number, number];
      const out = new intArrays[datatype as keyof typeof intArrays](n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
          throw wrongElement(name, datatype, values, i, `an integer in [${lo}, ${hi}]`);
        }
        out[i] = v;
      }
      return out;
    }
  }
}

const intArrays = {
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
} as const;

function wrongElement(name: string, datatype: OipDatatype, values: unknown[], i: number, want: string): AppError {
  return bad(`${labelOf(name)}: element ${i} must be ${want} for ${datatype}, got ${JSON.stringify(values[i])?.slice(0, 40)}`);
}

/** Integers arrive as JSON numbers (exact up to 2^53) or as decimal strings (the full 64-bit range). */
function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  return undefined;
}

/** An ONNX Runtime output as an OIP response tensor (flat, row-major data). */
export function encodeTensor(name: string, tensor: ort.Tensor): ResponseTensor {
  const datatype = oipDatatypeOf(tensor.type);
  if (!datatype) throw new AppError('NOT_IMPLEMENTED', `output '${name}' has type ${tensor.type}, which OIP JSON cannot carry`);
  return { name, datatype, shape: [...tensor.dims], data: encodeData(tensor) };
}

function encodeData(tensor: ort.Tensor): TensorValue[] {
  const data = tensor.data as ArrayLike<number | bigint | string>;
  const n = data.length;
  const out = new Array<TensorValue>(n);
  switch (tensor.type) {
    case 'string':
      for (let i = 0; i < n; i++) out[i] = data[i] as string;
      return out;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = data[i] !== 0;
      return out;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = finiteOrName(fromFloat16Bits(data[i] as number));
      return out;
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = finiteOrName(data[i] as number);
      return out;
    case 'int64':
    case 'uint64':
      // Past 2^53 a JSON number would silently change the value; the decimal string keeps it exact.
      for (let i = 0; i < n; i++) {
        const v = data[i] as bigint;
        const x = Number(v);
        out[i] = Number.isSafeInteger(x) ? x : v.toString();
      }
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = data[i] as number;
      return out;
  }
}

/** JSON has no NaN or Infinity: they travel as the strings "NaN", "Infinity", "-Infinity" (accepted on input too). */
function finiteOrName(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/**
 * Why a decoded tensor does not fit the model's declared input, or null when it does. Symbolic
 * and unknown dims match any size; `bound` records the size each symbolic dim took, so two inputs
 * sharing a dim name (a batch) must agree.
 */
export function specMismatch(
  tensor: ort.Tensor,
  spec: TensorSpec & { rankUnknown?: boolean },
  bound: Map<string, number>,
): string | null {
  const want = oipDatatypeOf(spec.dtype);
  if (want !== oipDatatypeOf(tensor.type)) {
    return `${labelOf(spec.name)} expects datatype ${want ?? spec.dtype}, got ${oipDatatypeOf(tensor.type) ?? tensor.type}`;
  }
  if (spec.rankUnknown) return null;
  const dims = tensor.dims;
  if (dims.length !== spec.shape.length) return shapeMismatch(spec, dims);
  for (let i = 0; i < dims.length; i++) {
    const want = spec.shape[i];
    const got = dims[i] as number;
    if (typeof want === 'number' && want !== got) return shapeMismatch(spec, dims);
    if (typeof want === 'string') {
      const seen = bound.get(want);
      if (seen !== undefined && seen !== got) {
        return `${labelOf(spec.name)}: dim '${want}' is ${got} here but ${seen} in another input`;
      }
      bound.set(want, got);
    }
  }
  return null;
}

function shapeMismatch(spec: TensorSpec, dims: readonly number[]): string {
  return `${labelOf(spec.name)} expects shape ${formatShape(spec.shape.map((d) => (typeof d === 'number' ? d : -1)))}, got ${formatShape(dims)}`;
}
