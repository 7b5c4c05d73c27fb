import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import { type OipDatatype, oipDatatypes } from '../runtime/datatypes.ts';
import { decodeTensor, encodeTensor, specMismatch } from './tensor-codec.ts';

const samples: Record<OipDatatype, unknown[]> = {
  BOOL: [true, false, false, true],
  UINT8: [0, 1, 128, 255],
  UINT16: [0, 1, 40000, 65535],
  UINT32: [0, 1, 3000000000, 4294967295],
  UINT64: [0, 1, 2 ** 53 - 1, '18446744073709551615'],
  INT8: [-128, -1, 0, 127],
  INT16: [-32768, -1, 0, 32767],
  INT32: [-2147483648, -1, 0, 2147483647],
  INT64: [-(2 ** 53 - 1), 0, '-9223372036854775808', '9223372036854775807'],
  FP16: [1.5, -2, 65504, 2 ** -24],
  FP32: [0.5, -1.25, 2 ** 100, 'NaN'],
  FP64: [Math.PI, -1e300, 'Infinity', '-Infinity'],
  BYTES: ['', 'a', 'héllo', '{"x":1}'],
};

const decode = (datatype: unknown, shape: unknown, data: unknown) => decodeTensor({ name: 'x', datatype, shape, data });
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(400);
    return (e as AppError).message;
  }
  throw new Error('expected a 400');
};

describe('tensor codec', () => {
  it.each(oipDatatypes)('round-trips %s through an ONNX Runtime tensor', (datatype) => {
    const data = samples[datatype];
    const tensor = decode(datatype, [2, 2], data);
    expect(tensor.dims).toEqual([2, 2]);
    const out = encodeTensor('y', tensor);
    expect(out).toEqual({ name: 'y', datatype, shape: [2, 2], data });
  });

  it('accepts nested data that follows the shape, row-major', () => {
    const flat = decode('INT32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const nested = decode(
      'INT32',
      [2, 3],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    expect(Array.from(nested.data as Int32Array)).toEqual(Array.from(flat.data as Int32Array));
    expect(Array.from(decode('FP32', [1, 2, 1], [[[1], [2]]]).data as Float32Array)).toEqual([1, 2]);
    expect(decode('FP32', [0, 3], []).dims).toEqual([0, 3]);
    expect(Array.from(decode('FP64', [], [7]).data as Float64Array)).toEqual([7]);
  });

  it('refuses data that does not match the shape', () => {
    expect(message(() => decode('FP32', [2, 2], [1, 2, 3]))).toMatch(/shape \[2, 2\] needs 4 values, data has 3/);
    expect(message(() => decode('FP32', [2, 2], [[1, 2, 3], [4]]))).toMatch(
      /nested data does not match shape \[2, 2\] at depth 1/,
    );
    expect(message(() => decode('FP32', [2], [[1], [2]]))).toMatch(/nested deeper than shape/);
    expect(message(() => decode('FP32', [2, 1], [1, [2]]))).toMatch(/does not match shape/);
    expect(message(() => decode('FP32', [-1, 2], [1, 2]))).toMatch(/non-negative integers/);
    expect(message(() => decode('FP32', '2', [1, 2]))).toMatch(/shape must be an array/);
    expect(message(() => decode('FP32', [2], 'ab'))).toMatch(/data must be an array/);
  });

  it('refuses unknown datatypes and elements of the wrong kind or range', () => {
    expect(message(() => decode('FLOAT32', [1], [1]))).toMatch(/unsupported datatype 'FLOAT32'; use one of BOOL, /);
    expect(message(() => decode(7, [1], [1]))).toMatch(/unsupported datatype number/);
    expect(message(() => decode('UINT8', [1], [256]))).toMatch(/element 0 must be an integer in \[0, 255\]/);
    expect(message(() => decode('INT32', [2], [1, 1.5]))).toMatch(/element 1 must be an integer/);
    expect(message(() => decode('INT64', [1], ['9223372036854775808']))).toMatch(/integer in/);
    expect(message(() => decode('UINT64', [1], [-1]))).toMatch(/integer in/);
    expect(message(() => decode('BOOL', [1], [1]))).toMatch(/true or false/);
    expect(message(() => decode('FP32', [1], ['1.5']))).toMatch(/must be a number/);
    expect(message(() => decode('BYTES', [1], [1]))).toMatch(/must be a string/);
  });

  it('rounds FP16 to the nearest half, overflowing to Infinity', () => {
    const out = encodeTensor('y', decode('FP16', [4], [0.1, 65520, -1e-9, 1 / 3]));
    expect(out.data).toEqual([0.0999755859375, 'Infinity', -0, 0.333251953125]);
  });

  it('returns INT64 past 2^53 as decimal strings and refuses types JSON cannot carry', () => {
    const big = new ort.Tensor('int64', BigInt64Array.from([2n ** 60n, 5n]), [2]);
    expect(encodeTensor('y', big).data).toEqual(['1152921504606846976', 5]);
    const int4 = new ort.Tensor('uint4', new Uint8Array([1, 2]), [2]);
    expect(() => encodeTensor('y', int4)).toThrow(/OIP JSON cannot carry/);
  });

  it('checks a tensor against the declared input: datatype, rank, fixed dims, shared symbolic dims', () => {
    const spec = { name: 'x', dtype: 'float32', shape: ['batch', 3] };
    const bound = new Map<string, number>();
    expect(specMismatch(decode('FP32', [2, 3], [1, 2, 3, 4, 5, 6]), spec, bound)).toBeNull();
    expect(specMismatch(decode('FP64', [1, 3], [1, 2, 3]), spec, new Map())).toBe("input 'x' expects datatype FP32, got FP64");
    expect(specMismatch(decode('FP32', [3], [1, 2, 3]), spec, new Map())).toBe("input 'x' expects shape [-1, 3], got [3]");
    expect(specMismatch(decode('FP32', [1, 2], [1, 2]), spec, new Map())).toBe("input 'x' expects shape [-1, 3], got [1, 2]");
    const other = { name: 'z', dtype: 'float32', shape: ['batch'] };
    expect(specMismatch(decode('FP32', [1], [1]), other, bound)).toBe("input 'z': dim 'batch' is 1 here but 2 in another input");
    expect(specMismatch(decode('FP32', [5], [1, 2, 3, 4, 5]), { ...other, rankUnknown: true, shape: [] }, new Map())).toBeNull();
  });
});
