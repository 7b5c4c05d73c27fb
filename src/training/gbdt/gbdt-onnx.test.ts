import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnxSignature } from '../../registry/index.ts';
import type { FeatureSpec, Table, Task, TrainedModel } from '../training-types.ts';
import { seededRandom } from './params.ts';
import { SYNTHETIC_FEATURES, syntheticTable } from './test-data.ts';
import { trainGbdt } from './trainer.ts';

function feeds(table: Table, features = SYNTHETIC_FEATURES): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const f of features) {
    const col = table.columns[f.name];
    out[f.name] =
      col instanceof Float64Array
        ? new ort.Tensor('float32', Float32Array.from(col), [table.rows, 1])
        : new ort.Tensor(
            'string',
            (col ?? []).map((v) => v ?? ''),
            [table.rows, 1],
          );
  }
  return out;
}

async function runOrt(model: TrainedModel, table: Table, threads?: number): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(model.onnx, threads ? { intraOpNumThreads: threads } : {});
  return session.run(feeds(table));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

async function trainFor(task: Task): Promise<{ model: TrainedModel; test: Table }> {
  const train = syntheticTable({ rows: 6000, task, seed: 11 });
  const valid = syntheticTable({ rows: 1500, task, seed: 12 });
  // Held-out rows include NaNs, null categories and categories never seen in training.
  const test = syntheticTable({ rows: 1500, task, seed: 13, unseenRate: 0.15 });
  const model = await trainGbdt({ train, valid, label: 'y', features: SYNTHETIC_FEATURES, task }, { numTrees: 120 });
  return { model, test };
}

describe('GBDT ONNX export', () => {
  it('binary: onnxruntime probability and label match predict() on held-out rows', async () => {
    const { model, test } = await trainFor('binary');
    const ours = model.predict(test);
    const x1 = test.columns['x1'] as Float64Array;
    expect(x1.some(Number.isNaN)).toBe(true);
    expect((test.columns['city'] as (string | null)[]).some((c) => c?.startsWith('new'))).toBe(true);
    // One thread sums trees in order exactly as predict() does; more threads may regroup the float32 sum.
    for (const threads of [1, undefined]) {
      const out = await runOrt(model, test, threads);
      const prob = out['probability']?.data as Float32Array;
      expect(out['probability']?.dims).toEqual([test.rows, 1]);
      expect(maxAbsDiff(prob, ours)).toBeLessThanOrEqual(1e-5);
      const label = out['label']?.data as BigInt64Array;
      expect(out['label']?.type).toBe('int64');
      expect(Array.from(label, Number)).toEqual(Array.from(prob, (p) => (p >= 0.5 ? 1 : 0)));
    }
  });

  it('regression: onnxruntime prediction matches predict() on held-out rows', async () => {
    const { model, test } = await trainFor('regression');
    const out = await runOrt(model, test, 1);
    expect(out['prediction']?.dims).toEqual([test.rows, 1]);
    expect(maxAbsDiff(out['prediction']?.data as Float32Array, model.predict(test))).toBeLessThanOrEqual(1e-5);
  });

  it('declares one input per feature and the shared output signature', async () => {
    const { model } = await trainFor('binary');
    const sig = readOnnxSignature(model.onnx);
    expect(sig.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual(
      SYNTHETIC_FEATURES.map((f) => [f.name, f.kind === 'numeric' ? 'float32' : 'string', ['batch', 1]]),
    );
    expect(sig.outputs.map((o) => [o.name, o.dtype])).toEqual([
      ['probability', 'float32'],
      ['label', 'int64'],
    ]);
    expect(sig.opsets.map((o) => o.domain).sort()).toEqual(['', 'ai.onnx.ml']);
  });

  it('treats empty strings like missing categories', async () => {
    const { model, test } = await trainFor('binary');
    const city = (test.columns['city'] as (string | null)[]).map((c) => (c === null ? '' : c));
    const withEmpty: Table = { rows: test.rows, columns: { ...test.columns, city } };
    expect(Array.from(model.predict(withEmpty))).toEqual(Array.from(model.predict(test)));
  });

  it('matches with bagging, weights, infinities and more categories than bins', async () => {
    const random = seededRandom(5);
    const features: FeatureSpec[] = [
      { name: 'x', kind: 'numeric' },
      { name: 'k', kind: 'categorical' },
    ];
    const make = (rows: number): Table => {
      const x = Float64Array.from({ length: rows }, () => {
        const u = random();
        return u < 0.02 ? Number.POSITIVE_INFINITY : u < 0.04 ? Number.NEGATIVE_INFINITY : u < 0.1 ? Number.NaN : random() * 10;
      });
      const k = Array.from({ length: rows }, () => `k${Math.floor(random() * 400)}`);
      const y = Float64Array.from({ length: rows }, (_, i) => {
        const v = x[i] as number;
        return ((Number.parseInt((k[i] as string).slice(1), 10) * 37) % 11) / 5 + (Number.isFinite(v) ? Math.sqrt(v) : -1);
      });
      return { rows, columns: { x, k, y } };
    };
    const train = make(5000);
    const weights = Float64Array.from({ length: train.rows }, () => 0.5 + random());
    const params = { numTrees: 40, rowSubsample: 0.8, colSubsample: 0.5, maxBins: 64, minDataInLeaf: 5 };
    const model = await trainGbdt({ train, label: 'y', features, task: 'regression', weights }, params);
    const test = make(1000);
    const session = await ort.InferenceSession.create(model.onnx, { intraOpNumThreads: 1 });
    const out = await session.run(feeds(test, features));
    expect(maxAbsDiff(out['prediction']?.data as Float32Array, model.predict(test))).toBeLessThanOrEqual(1e-5);
  });

  it('splits a categorical feature on a set of categories in one node, and onnxruntime agrees (BRANCH_MEMBER)', async () => {
    const random = seededRandom(9);
    const features: FeatureSpec[] = [{ name: 'k', kind: 'categorical' }];
    // Late for a scattered set of 12 of 30 categories: no single threshold on any category order separates them.
    const late = new Set([1, 4, 5, 9, 12, 13, 17, 20, 22, 25, 27, 29].map((c) => `c${c}`));
    const make = (rows: number): Table => {
      const k = Array.from({ length: rows }, () => `c${Math.floor(random() * 30)}`);
      return { rows, columns: { k, y: Float64Array.from(k, (c) => (late.has(c) ? 1 : 0)) } };
    };
    const train = make(6000);
    const model = await trainGbdt(
      { train, label: 'y', features, task: 'binary' },
      { numTrees: 1, numLeaves: 2, learningRate: 1, earlyStoppingRounds: 0 },
    );
    const test = make(2000);
    const test1 = {
      ...test,
      columns: { ...test.columns, k: [...(test.columns['k'] as string[]), 'never-seen'] },
      rows: test.rows + 1,
    };
    const ours = model.predict(test1);
    const k = test1.columns['k'] as string[];
    const inSet = k.map((c, i) => [late.has(c), ours[i] as number] as const);
    const highs = new Set(inSet.filter(([l]) => l).map(([, p]) => p));
    const lows = new Set(inSet.filter(([l]) => !l).map(([, p]) => p));
    expect(highs.size).toBe(1);
    expect(lows.size).toBe(1);
    expect([...highs][0]).toBeGreaterThan([...lows][0] as number);
    // An unseen category goes with the rest, as missing values do.
    expect(ours[test.rows]).toBe([...lows][0]);
    const session = await ort.InferenceSession.create(model.onnx, { intraOpNumThreads: 1 });
    const out = await session.run(feeds(test1, features));
    expect(maxAbsDiff(out['probability']?.data as Float32Array, ours)).toBeLessThanOrEqual(1e-5);
  });
});
