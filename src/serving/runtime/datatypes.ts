import type * as ort from 'onnxruntime-node';

/** The Open Inference Protocol's tensor datatypes that ONNX Runtime for Node can feed and fetch. */
export const oipDatatypes = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type OipDatatype = (typeof oipDatatypes)[number];

/** The same types by their ONNX Runtime tensor type (which is also the registry signature's dtype name). */
const ortByOip: Record<OipDatatype, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const oipByOrt = new Map<string, OipDatatype>(Object.entries(ortByOip).map(([oip, t]) => [t, oip as OipDatatype]));

/** ONNX element types ONNX Runtime knows but cannot exchange with Node (no typed array for them); named as Triton does. */
const unsupportedNames: Record<string, string> = {
  bfloat16: 'BF16',
  complex64: 'COMPLEX64',
  complex128: 'COMPLEX128',
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(ortByOip, value);
}

export function ortTypeOf(datatype: OipDatatype): ort.Tensor.Type {
  return ortByOip[datatype];
}

/** The OIP datatype of a registry/ONNX dtype, or undefined when Node's ONNX Runtime cannot exchange it. */
export function oipDatatypeOf(dtype: string): OipDatatype | undefined {
  return oipByOrt.get(dtype);
}

/** What model metadata reports for a dtype: the OIP name, else a descriptive upper-case name. */
export function describeDatatype(dtype: string): string {
  return oipByOrt.get(dtype) ?? unsupportedNames[dtype] ?? dtype.toUpperCase();
}
