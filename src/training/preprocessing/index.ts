export { type DesignMatrix, toDense, transformTable } from './design-matrix.ts';
export {
  type CategoricalEncoding,
  encodedColumnNames,
  fitPreprocessing,
  type NumericScaling,
  type Preprocessing,
} from './fit-preprocessing.ts';
export { type OnnxGraphPart, preprocessingOnnx } from './preprocessing-onnx.ts';
