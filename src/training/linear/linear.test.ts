import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import { readOnnxSignature } from '../../registry/index.ts';
import { runOnnx } from '../preprocessing/ort-test-feeds.ts';
import type { SyntheticColumns } from '../preprocessing/synthetic-table.ts';
import type { FeatureSpec, Table, TrainInput } from '../training-types.ts';
import { type KnownModel, tableFromModel } from './linear-test-data.ts';
import { trainLogisticRegression } from './train-linear.ts';

const columns: SyntheticColumns = {
  numeric: [
    { name: 'age', mean: 40, std: 12, missingRate: 0.1 },
    { name: 'income', mean: 5e4, std: 2e4, missingRate: 0.05 },
    { name: 'score', mean: -3, std: 0.01 },
  ],
  categorical: [
    { name: 'city', levels: 12, prefix: 'city-', missingRate: 0.05 },
    { name: 'user', levels: 200, prefix: 'user-', missingRate: 0.05 },
  ],
};
// At test time both categorical columns also hold values training never saw.
const testColumns: SyntheticColumns = {
  ...columns,
  categorical: (columns.categorical ?? []).map((c) => ({ ...c, levels: c.levels + 10 })),
};

const known: KnownModel = {
  intercept: -0.3,
  numeric: { age: 0.8, income: -0.5, score: 0.3 },
  categorical: { city: { 'city-0': 1, 'city-1': -1, 'city-2': 0.5 }, user: { 'user-7': 2 } },
  noise: 0.5,
};

const features = (userEncoding: 'onehot' | 'hashed'): FeatureSpec[] => [
  { name: 'age', kind: 'numeric' },
  { name: 'city', kind: 'categorical', maxCategories: 8 },
  { name: 'income', kind: 'numeric' },
  { name: 'user', kind: 'categorical', encoding: userEncoding, buckets: 16 },
  { name: 'score', kind: 'numeric' },
];

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('trainLogisticRegression: the ONNX graph computes what predict computes', () => {
  for (const encoding of ['onehot', 'hashed'] as const) {
    it(`binary, ${encoding} user ids: ORT probabilities within 1e-5 of predict on held-out rows`, async () => {
      const train = tableFromModel(3000, columns, known, 'binary', 11);
      const test = tableFromModel(1000, testColumns, known, 'binary', 12);
      const model = await trainLogisticRegression({ train, label: 'y', features: features(encoding), task: 'binary' });
      const out = await runOnnx(model.onnx, test, model.features);
      const probability = out['probability']?.data as Float32Array;
      const label = out['label']?.data as BigInt64Array;
      const mine = model.predict(test);
      expect(probability).toHaveLength(test.rows);
      expect(maxAbsDiff(probability, mine)).toBeLessThanOrEqual(1e-5);
      expect(Array.from(label, Number)).toEqual(Array.from(probability, (p) => Number(p >= 0.5)));
      expect(out['label']?.dims).toEqual([test.rows, 1]);
    });
  }

  it('regression: ORT prediction agrees with predict to float32 rounding', async () => {
    const train = tableFromModel(3000, columns, { ...known, intercept: 250 }, 'regression', 13);
    const test = tableFromModel(1000, testColumns, { ...known, intercept: 250 }, 'regression', 14);
    const model = await trainLogisticRegression({ train, label: 'y', features: features('hashed'), task: 'regression' });
    const out = await runOnnx(model.onnx, test, model.features);
    expect(Object.keys(out)).toEqual(['prediction']);
    // Values near 250 have a float32 spacing of 1.5e-5, so allow a few units in the last place.
    expect(maxAbsDiff(out['prediction']?.data as Float32Array, model.predict(test))).toBeLessThanOrEqual(1e-4);
  });
});

describe('trainLogisticRegression: fitting', () => {
  const train = tableFromModel(2000, columns, known, 'binary', 21);
  const valid = tableFromModel(500, columns, known, 'binary', 22);
  const input: TrainInput = { train, valid, label: 'y', features: features('onehot'), task: 'binary' };

  it('is deterministic: the same input gives identical ONNX bytes and curves', async () => {
    const a = await trainLogisticRegression(input, { l2: 1e-3 });
    const b = await trainLogisticRegression(input, { l2: 1e-3 });
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(a.history).toEqual(b.history);
  });

  it('records train and valid loss per iteration, the parameters used and facts about the fit', async () => {
    const model = await trainLogisticRegression(input, { maxIterations: 50 });
    expect(model.history.length).toBe(model.info['iterations']);
    expect(model.history.map((p) => p.step)).toEqual(model.history.map((_, i) => i + 1));
    const first = model.history[0];
    const last = model.history.at(-1);
    expect(last?.train).toBeLessThan(first?.train ?? 0);
    expect(last?.valid).toBeGreaterThan(0);
    expect(model.params).toMatchObject({ l2: 1e-4, maxIterations: 50, tolerance: 1e-6, optimizer: 'lbfgs' });
    expect(model.info).toMatchObject({ encodedFeatures: 3 + 9 + 101, rows: 2000 });
    expect(model.kind).toBe('logistic_regression');
  });

  it('writes the shared model signature: one input per feature, probability and label out', async () => {
    const model = await trainLogisticRegression(input, { maxIterations: 5 });
    const signature = readOnnxSignature(model.onnx);
    expect(signature.inputs).toEqual([
      { name: 'age', dtype: 'float32', shape: ['batch', 1] },
      { name: 'city', dtype: 'string', shape: ['batch', 1] },
      { name: 'income', dtype: 'float32', shape: ['batch', 1] },
      { name: 'user', dtype: 'string', shape: ['batch', 1] },
      { name: 'score', dtype: 'float32', shape: ['batch', 1] },
    ]);
    expect(signature.outputs).toEqual([
      { name: 'probability', dtype: 'float32', shape: ['batch', 1] },
      { name: 'label', dtype: 'int64', shape: ['batch', 1] },
    ]);
  });

  it('names the table in errors about columns missing from valid or predict input', async () => {
    const { user: _, ...rest } = valid.columns;
    const noUser = { rows: valid.rows, columns: rest };
    await expect(trainLogisticRegression({ ...input, valid: noUser })).rejects.toThrow(/valid: unknown column 'user'/);
    const model = await trainLogisticRegression(input, { maxIterations: 5 });
    expect(() => model.predict(noUser)).toThrow(/predict: unknown column 'user'/);
  });

  it('treats equal row weights exactly like no weights', async () => {
    const weighted = await trainLogisticRegression({ ...input, weights: new Float64Array(train.rows).fill(3) });
    const plain = await trainLogisticRegression(input);
    expect(Buffer.from(weighted.onnx).equals(Buffer.from(plain.onnx))).toBe(true);
  });
});

describe('trainLogisticRegression: bad input', () => {
  const train = tableFromModel(100, columns, known, 'binary', 31);
  const base: TrainInput = { train, label: 'y', features: features('onehot'), task: 'binary' };
  const rejects = async (input: TrainInput, message: RegExp) => {
    const error = await trainLogisticRegression(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    expect((error as AppError).message).toMatch(message);
  };
  const withLabel = (y: number[]): Table => ({ rows: y.length, columns: { ...train.columns, y: Float64Array.from(y) } });

  it('rejects a binary label that is not 0/1, or has one class', async () => {
    const y = Array.from(train.columns['y'] as Float64Array);
    y[5] = 2;
    await rejects({ ...base, train: withLabel(y) }, /label 'y' must be 0 or 1.*row 5 has 2/);
    await rejects({ ...base, train: withLabel(y.map(() => 1)) }, /only one class/);
    await rejects({ ...base, train: withLabel(y.map(() => Number.NaN)), task: 'regression' }, /finite number/);
  });

  it('rejects unknown feature columns, a missing label and empty tables', async () => {
    await rejects({ ...base, features: [...base.features, { name: 'nope', kind: 'numeric' }] }, /unknown column 'nope'/);
    await rejects({ ...base, label: 'target' }, /label column 'target' is missing/);
    await rejects({ ...base, train: { rows: 0, columns: { y: new Float64Array(0) } } }, /empty/);
    await rejects({ ...base, features: [{ name: 'y', kind: 'numeric' }] }, /cannot also be a feature/);
    await rejects({ ...base, weights: new Float64Array(3) }, /weights has 3 values/);
    const typo = trainLogisticRegression(base, { learningRate: 0.1 } as never);
    await expect(typo).rejects.toThrow(/unknown logistic regression parameter 'learningRate'/);
  });
});
