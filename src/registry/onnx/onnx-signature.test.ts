import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import { buildLinearModel, buildOnnxModel, compareSignature, readOnnxSignature, type TensorSpec } from './index.ts';
import { ModelProto } from './onnx-proto.ts';

const weights = [0.5, -1.25, 2];
const bias = 0.1;
const rows = [
  [1, 2, 3],
  [-0.5, 0, 4.25],
  [10, -3, 0.001],
];
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const affine = (row: number[]): number => row.reduce((acc, v, i) => acc + v * (weights[i] ?? 0), bias);
const maxAbsDiff = (got: number[], want: number[]): number =>
  Math.max(...want.map((w, i) => Math.abs((got[i] ?? Number.NaN) - w)));

async function runLinear(bytes: Uint8Array): Promise<{ out: number[]; session: ort.InferenceSession }> {
  const session = await ort.InferenceSession.create(bytes);
  const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 3]);
  const result = await session.run({ x });
  const y = result.y;
  if (!y) throw new Error('no output y');
  expect(y.dims).toEqual([3, 1]);
  return { out: Array.from(y.data as Float32Array), session };
}

function expectInvalid(bytes: Uint8Array): void {
  let caught: unknown;
  try {
    readOnnxSignature(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('INVALID_MODEL');
}

/** Deterministic bytes so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

describe('buildLinearModel + onnxruntime', () => {
  it('computes x·W + b', async () => {
    const { out } = await runLinear(buildLinearModel({ features: 3, weights, bias }));
    expect(maxAbsDiff(out, rows.map(affine))).toBeLessThanOrEqual(1e-5);
  });

  it('computes sigmoid(x·W + b) and its signature matches the session', async () => {
    const bytes = buildLinearModel({ features: 3, weights, bias, sigmoid: true });
    const { out, session } = await runLinear(bytes);
    expect(
      maxAbsDiff(
        out,
        rows.map((r) => sigmoid(affine(r))),
      ),
    ).toBeLessThanOrEqual(1e-5);

    const sig = readOnnxSignature(bytes);
    expect(sig.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(sig.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['batch', 1] }]);
    expect(sig.inputs.map((s) => s.name)).toEqual([...session.inputNames]);
    expect(sig.outputs.map((s) => s.name)).toEqual([...session.outputNames]);
    expect(sig.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(sig.producer).toBe('keel');
    await session.release();
  });
});

describe('readOnnxSignature', () => {
  it('round-trips int64 inputs, string outputs and unknown dims', () => {
    const bytes = buildOnnxModel({
      inputs: [{ name: 'ids', dtype: 'int64', shape: ['n', null, 4] }],
      outputs: [{ name: 'labels', dtype: 'string', shape: ['n'] }],
      nodes: [{ opType: 'Cast', inputs: ['ids'], outputs: ['labels'], attributes: { to: 8 } }],
      opsets: [
        { domain: '', version: 19 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
      producer: 'test-suite',
    });
    const sig = readOnnxSignature(bytes);
    expect(sig.inputs).toEqual([{ name: 'ids', dtype: 'int64', shape: ['n', null, 4] }]);
    expect(sig.outputs).toEqual([{ name: 'labels', dtype: 'string', shape: ['n'] }]);
    expect(sig.opsets).toEqual([
      { domain: '', version: 19 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
    expect(sig.producer).toBe('test-suite');
  });

  it('drops initializers that old exporters also list as inputs', () => {
    const bytes = buildOnnxModel({
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2] },
        { name: 'w', dtype: 'float32', shape: [2] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      nodes: [{ opType: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dtype: 'float32', dims: [2], values: [1, 2] }],
    });
    expect(readOnnxSignature(bytes).inputs.map((s) => s.name)).toEqual(['x']);
  });

  it('describes non-tensor outputs such as ZipMap sequences of maps', () => {
    const floatScalar = { tensorType: { elemType: 1, shape: { dim: [] } } };
    const model = ModelProto.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: 'ai.onnx.ml', version: 3 }],
      graph: {
        input: [{ name: 'x', type: { tensorType: { elemType: 1 } } }],
        output: [{ name: 'probs', type: { sequenceType: { elemType: { mapType: { keyType: 7, valueType: floatScalar } } } } }],
      },
    });
    const sig = readOnnxSignature(ModelProto.encode(model).finish());
    expect(sig.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [], rankUnknown: true }]);
    expect(sig.outputs).toEqual([{ name: 'probs', dtype: 'seq(map(int64,float32))', shape: [] }]);
  });

  it('rejects garbage, empty, truncated and random input with INVALID_MODEL', () => {
    const valid = buildLinearModel({ features: 3, weights, bias });
    expectInvalid(new Uint8Array());
    expectInvalid(new TextEncoder().encode('definitely not an onnx model'));
    expectInvalid(valid.subarray(0, Math.floor(valid.length / 2)));
    expectInvalid(pseudoRandomBytes(1024 * 1024, 42));
    for (let len = 1; len < valid.length; len++) expectInvalid(valid.subarray(0, len));
    for (let seed = 1; seed <= 300; seed++) expectInvalid(pseudoRandomBytes(1 + ((seed * 37) % 4096), seed));
  });

  it('rejects protobuf that is not a usable model', () => {
    expectInvalid(ModelProto.encode(ModelProto.fromObject({ irVersion: 8, producerName: 'x' })).finish());
    const noIr = ModelProto.fromObject({ opsetImport: [{ version: 17 }], graph: { output: [{ name: 'y' }] } });
    expectInvalid(ModelProto.encode(noIr).finish());
  });
});

describe('compareSignature', () => {
  const actual = readOnnxSignature(buildLinearModel({ features: 3, weights, bias }));
  const spec = (name: string, dtype: string, shape: TensorSpec['shape']): TensorSpec => ({ name, dtype, shape });

  it('accepts a matching declaration, treating symbolic dims as wildcards', () => {
    const declared = { inputs: [spec('x', 'float32', [16, 3])], outputs: [spec('y', 'float', ['rows', null])] };
    expect(compareSignature(declared, actual)).toEqual([]);
  });

  it('reports name, dtype, shape and rank mismatches', () => {
    const declared = {
      inputs: [spec('features', 'float32', ['batch', 3])],
      outputs: [spec('y', 'int64', ['batch', 1])],
    };
    const problems = compareSignature(declared, actual);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/missing input 'features'/);
    expect(problems.join('\n')).toMatch(/extra input 'x'/);
    expect(problems.join('\n')).toMatch(/output 'y': dtype mismatch \(declared int64, model has float32\)/);

    const shapes = compareSignature(
      { inputs: [spec('x', 'float32', ['batch', 4])], outputs: [spec('y', 'float32', ['batch'])] },
      actual,
    );
    expect(shapes).toEqual([
      "input 'x': shape mismatch at dim 1 (declared 4, model has 3)",
      "output 'y': rank mismatch (declared [batch], model has [batch, 1])",
    ]);
  });
});
