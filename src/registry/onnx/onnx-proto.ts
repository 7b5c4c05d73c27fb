import protobuf from 'protobufjs';

/**
 * The subset of onnx.proto (proto2) that Keel reads and writes. Field numbers follow
 * onnx/onnx.proto; anything not listed here is skipped as an unknown field on decode,
 * so newer models with extra fields still parse.
 */
const ONNX_PROTO = `
syntax = "proto2";
package onnx;

message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message AttributeProto {
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional int32 type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; optional string doc_string = 3; }

message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  message Sequence { optional TypeProto elem_type = 1; }
  message Map { optional int32 key_type = 1; optional TypeProto value_type = 2; }
  message Optional { optional TypeProto elem_type = 1; }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Optional optional_type = 9;
    Tensor sparse_tensor_type = 8;
  }
  optional string denotation = 6;
}

message TensorShapeProto {
  message Dimension {
    oneof value { int64 dim_value = 1; string dim_param = 2; }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

// Read-side views with the same field numbers but only what a signature needs: node and
// weight payloads are skipped by length instead of materialised, so big models stay cheap.
message ModelSignatureView {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional GraphSignatureView graph = 7;
}
message GraphSignatureView {
  repeated TensorNameView initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorNameView { optional string name = 8; }
`;

const root = protobuf.parse(ONNX_PROTO).root;
export const ModelProto = root.lookupType('onnx.ModelProto');
export const ModelSignatureView = root.lookupType('onnx.ModelSignatureView');

/** TensorProto.DataType codes, keyed by the names onnxruntime's JS API uses. */
export const ELEM_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  complex64: 14,
  complex128: 15,
  bfloat16: 16,
  float8e4m3fn: 17,
  float8e4m3fnuz: 18,
  float8e5m2: 19,
  float8e5m2fnuz: 20,
  uint4: 21,
  int4: 22,
  float4e2m1: 23,
} as const;

export type ElemTypeName = keyof typeof ELEM_TYPES;

const NAME_BY_CODE = new Map<number, string>(Object.entries(ELEM_TYPES).map(([name, code]) => [code, name]));

export function elemTypeName(code: number | undefined): string {
  return (code !== undefined && NAME_BY_CODE.get(code)) || `unknown(${code ?? 0})`;
}

export function elemTypeCode(name: string): number | undefined {
  return Object.hasOwn(ELEM_TYPES, name) ? ELEM_TYPES[name as ElemTypeName] : undefined;
}

/** AttributeProto.AttributeType codes used by the builder. */
export const ATTR_TYPES = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/* Plain-object shapes of ModelSignatureView.toObject(msg, { longs: Number }). */

export interface DimensionObj {
  dimValue?: number;
  dimParam?: string;
}

export interface TypeObj {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionObj[] } };
  sparseTensorType?: { elemType?: number; shape?: { dim?: DimensionObj[] } };
  sequenceType?: { elemType?: TypeObj };
  mapType?: { keyType?: number; valueType?: TypeObj };
  optionalType?: { elemType?: TypeObj };
}

export interface ValueInfoObj {
  name?: string;
  type?: TypeObj;
}

export interface ModelObj {
  irVersion?: number;
  producerName?: string;
  opsetImport?: { domain?: string; version?: number }[];
  graph?: {
    initializer?: { name?: string }[];
    input?: ValueInfoObj[];
    output?: ValueInfoObj[];
  };
}
