import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import { buildOnnxModel } from '../../registry/index.ts';
import type { FeatureSpec, Table } from '../training-types.ts';
import { fnv1a32 } from './category-index.ts';
import { toDense, transformTable } from './design-matrix.ts';
import { encodedColumnNames, fitPreprocessing, type Preprocessing } from './fit-preprocessing.ts';
import { runOnnx } from './ort-test-feeds.ts';
import { preprocessingOnnx } from './preprocessing-onnx.ts';
import { syntheticTable } from './synthetic-table.ts';

const features: FeatureSpec[] = [
  { name: 'age', kind: 'numeric' },
  { name: 'city', kind: 'categorical', maxCategories: 5 },
  { name: 'income', kind: 'numeric' },
  { name: 'user', kind: 'categorical', encoding: 'hashed', buckets: 8 },
];

const columns = {
  numeric: [
    { name: 'age', mean: 40, std: 12, missingRate: 0.1 },
    { name: 'income', mean: 5e4, std: 2e4, missingRate: 0.05 },
  ],
  categorical: [
    { name: 'city', levels: 8, prefix: 'city-', missingRate: 0.1 },
    { name: 'user', levels: 30, prefix: 'user-', missingRate: 0.1 },
  ],
};

/** Runs only the preprocessing part of the graph and returns the float32 design matrix ORT computes. */
async function runPreprocessing(prep: Preprocessing, table: Table): Promise<Float32Array> {
  const part = preprocessingOnnx(prep);
  const bytes = buildOnnxModel({
    inputs: part.inputs,
    outputs: [{ name: part.output, dtype: 'float32', shape: ['batch', part.width] }],
    nodes: part.nodes,
    initializers: part.initializers,
    opsets: part.opsets,
  });
  const result = await runOnnx(bytes, table, prep.features);
  return result[part.output]?.data as Float32Array;
}

describe('preprocessing', () => {
  const train = syntheticTable(2000, columns, 1);
  const prep = fitPreprocessing(train, features);

  it('standardises numeric columns around their observed mean and imputes missing values with it', () => {
    const [age, income] = prep.numeric;
    expect(age?.mean).toBeCloseTo(40, 0);
    expect(age?.std).toBeCloseTo(12, -0.5);
    expect(income?.std).toBeGreaterThan(1e4);
    const m = transformTable(prep, train);
    const ages = train.columns['age'] as Float64Array;
    const missing = ages.findIndex(Number.isNaN);
    expect(m.numeric[missing * m.numericCount]).toBe(0);
  });

  it('keeps the most frequent categories and one other column; hashes seen strings into buckets', () => {
    const names = encodedColumnNames(prep);
    expect(prep.width).toBe(2 + 6 + 9);
    expect(names.slice(0, 2)).toEqual(['age', 'income']);
    expect(names.filter((n) => n.startsWith('city='))).toHaveLength(6);
    const user = prep.categorical[1];
    expect(user?.index.get('user-3')).toBe(fnv1a32('user-3') % 8);
    expect(user?.otherColumn).toBe(8);
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
  });

  it('ONNX Runtime computes exactly the design matrix transformTable encodes, unseen and missing values included', async () => {
    const test = syntheticTable(
      500,
      { ...columns, categorical: columns.categorical.map((c) => ({ ...c, levels: c.levels + 5 })) },
      2,
    );
    const dense = toDense(transformTable(prep, test));
    const fromOrt = await runPreprocessing(prep, test);
    expect(fromOrt.length).toBe(dense.length);
    expect(Array.from(fromOrt)).toEqual(Array.from(dense));
  });

  it('gives a block with a single column to a categorical feature never seen with a value', async () => {
    const empty: Table = { rows: 3, columns: { c: [null, null, ''], x: Float64Array.from([1, 2, Number.NaN]) } };
    const p = fitPreprocessing(empty, [
      { name: 'c', kind: 'categorical' },
      { name: 'x', kind: 'numeric' },
    ]);
    expect(p.width).toBe(2);
    const probe: Table = { rows: 2, columns: { c: ['a', null], x: Float64Array.from([3, Number.NaN]) } };
    expect(Array.from(await runPreprocessing(p, probe))).toEqual(Array.from(toDense(transformTable(p, probe))));
  });

  it('rejects unknown columns, wrong types and empty tables with VALIDATION_FAILED', () => {
    const expectInvalid = (fn: () => unknown, message: RegExp) => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).code).toBe('VALIDATION_FAILED');
        expect((e as AppError).message).toMatch(message);
      }
    };
    expectInvalid(() => fitPreprocessing(train, [{ name: 'nope', kind: 'numeric' }]), /unknown column 'nope'/);
    expectInvalid(() => fitPreprocessing(train, [{ name: 'city', kind: 'numeric' }]), /'city' must be numeric/);
    expectInvalid(() => fitPreprocessing({ rows: 0, columns: {} }, features), /empty/);
    expectInvalid(() => fitPreprocessing(train, []), /at least one feature/);
    expectInvalid(() => transformTable(prep, { rows: 1, columns: { age: Float64Array.of(1) } }), /unknown column/);
  });
});
