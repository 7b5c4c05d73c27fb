export {
  type AttributeValue,
  buildLinearModel,
  buildOnnxModel,
  type InitializerDtype,
  type InitializerSpec,
  type LinearModelOptions,
  type NodeSpec,
  type OnnxModelSpec,
  type ValueSpec,
} from './onnx-builder.ts';
export { ELEM_TYPES, type ElemTypeName } from './onnx-proto.ts';
export {
  compareSignature,
  type Dim,
  type OnnxSignature,
  type OpsetSpec,
  readOnnxSignature,
  type TensorSpec,
} from './onnx-signature.ts';
