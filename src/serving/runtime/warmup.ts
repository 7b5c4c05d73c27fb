import * as ort from 'onnxruntime-node';
import type { ModelSignature } from '../../registry/index.ts';

/**
 * A one-row synthetic batch for a model's first run: zeros (empty strings, false) in the declared
 * shape, symbolic and unknown dims taken as 1. Null when an input is not a plain tensor or has no
 * known rank, so there is nothing sensible to send.
 */
export function warmupFeeds(signature: ModelSignature): Record<string, ort.Tensor> | null {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of signature.inputs) {
    // Signatures read from the ONNX file mark inputs declared without any shape.
    if ((input as { rankUnknown?: boolean }).rankUnknown) return null;
    const dims = input.shape.map((d) => (typeof d === 'number' ? d : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = input.dtype as ort.Tensor.Type;
    switch (type) {
      case 'string':
        feeds[input.name] = new ort.Tensor('string', new Array<string>(count).fill(''), dims);
        break;
      case 'int64':
        feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(count), dims);
        break;
      case 'uint64':
        feeds[input.name] = new ort.Tensor('uint64', new BigUint64Array(count), dims);
        break;
      case 'float32':
      case 'float64':
      case 'float16':
      case 'int8':
      case 'int16':
      case 'int32':
      case 'uint8':
      case 'uint16':
      case 'uint32':
      case 'bool': {
        const arrays = {
          float32: Float32Array,
          float64: Float64Array,
          float16: Uint16Array,
          int8: Int8Array,
          int16: Int16Array,
          int32: Int32Array,
          uint8: Uint8Array,
          uint16: Uint16Array,
          uint32: Uint32Array,
          bool: Uint8Array,
        } as const;
        feeds[input.name] = new ort.Tensor(type, new arrays[type](count), dims);
        break;
      }
      default:
        return null;
    }
  }
  return feeds;
}
