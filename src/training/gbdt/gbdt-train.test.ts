import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import type { Table, TrainInput } from '../training-types.ts';
import { SYNTHETIC_FEATURES, syntheticTable } from './test-data.ts';
import { auc, linearBaseline, rmse } from './test-metrics.ts';
import { trainGbdt } from './trainer.ts';

const label = 'y';
const features = SYNTHETIC_FEATURES;

function logLoss(p: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i] as number));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

const yOf = (t: Table): Float64Array => t.columns[label] as Float64Array;

describe('trainGbdt learning', () => {
  it('binary: beats the constant and linear baselines on held-out rows', async () => {
    const train = syntheticTable({ rows: 8000, task: 'binary', seed: 21 });
    const valid = syntheticTable({ rows: 2000, task: 'binary', seed: 22 });
    const test = syntheticTable({ rows: 4000, task: 'binary', seed: 23 });
    const model = await trainGbdt({ train, valid, label, features, task: 'binary' });
    const p = model.predict(test);
    const rate = yOf(train).reduce((s, v) => s + v, 0) / train.rows;
    const constant = new Float64Array(test.rows).fill(rate);
    const linear = linearBaseline(train, test, features, label);
    expect(auc(p, yOf(test))).toBeGreaterThan(auc(linear, yOf(test)) + 0.03);
    expect(logLoss(p, yOf(test))).toBeLessThan(0.8 * logLoss(constant, yOf(test)));
    expect(model.kind).toBe('gbdt');
    expect(model.history[0]?.valid).toBeDefined();
  });

  it('regression: beats the constant and linear baselines on held-out rows', async () => {
    const train = syntheticTable({ rows: 8000, task: 'regression', seed: 31 });
    const valid = syntheticTable({ rows: 2000, task: 'regression', seed: 32 });
    const test = syntheticTable({ rows: 4000, task: 'regression', seed: 33 });
    const model = await trainGbdt({ train, valid, label, features, task: 'regression' });
    const mean = yOf(train).reduce((s, v) => s + v, 0) / train.rows;
    const ours = rmse(model.predict(test), yOf(test));
    expect(ours).toBeLessThan(0.8 * rmse(linearBaseline(train, test, features, label), yOf(test)));
    expect(ours).toBeLessThan(0.5 * rmse(new Float64Array(test.rows).fill(mean), yOf(test)));
    // The training curve goes down.
    expect(model.history.at(-1)?.train).toBeLessThan(model.history[0]?.train ?? 0);
  });
});

describe('trainGbdt behaviour', () => {
  const input = (seed = 41): TrainInput => ({
    train: syntheticTable({ rows: 3000, task: 'binary', seed }),
    valid: syntheticTable({ rows: 1000, task: 'binary', seed: seed + 1 }),
    label,
    features,
    task: 'binary',
  });
  const sampled = { numTrees: 30, rowSubsample: 0.7, colSubsample: 0.6 };

  it('is deterministic for a seed, including row and feature sampling', async () => {
    const a = await trainGbdt(input(), { ...sampled, seed: 7 });
    const b = await trainGbdt(input(), { ...sampled, seed: 7 });
    const c = await trainGbdt(input(), { ...sampled, seed: 8 });
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(a.history).toEqual(b.history);
    expect(Buffer.from(a.onnx).equals(Buffer.from(c.onnx))).toBe(false);
  });

  it('early stopping ends the run and keeps the trees up to the best iteration', async () => {
    const model = await trainGbdt(input(), { numTrees: 500, learningRate: 0.5, earlyStoppingRounds: 5 });
    const { iterations, trees, bestIteration } = model.info;
    expect(iterations).toBeLessThan(500);
    expect(model.history).toHaveLength(iterations ?? 0);
    expect(trees).toBe(bestIteration);
    expect((iterations ?? 0) - (bestIteration ?? 0)).toBe(5);
    const valid = model.history.map((h) => h.valid ?? Number.POSITIVE_INFINITY);
    expect(valid[(bestIteration ?? 0) - 1]).toBe(Math.min(...valid));
    expect(model.params['earlyStoppingRounds']).toBe(5);
  });

  it('without validation rows trains every tree', async () => {
    const { train } = input();
    const model = await trainGbdt({ train, label, features, task: 'binary' }, { numTrees: 12 });
    expect(model.info.trees).toBe(12);
    expect(model.history.every((h) => h.valid === undefined)).toBe(true);
  });

  it('learns where missing values go', async () => {
    // x1 drives the target through sin(2·x1) but NaN rows get a fixed +0.8 effect, so their predictions must rise.
    const reg = syntheticTable({ rows: 6000, task: 'regression', seed: 51 });
    const fitted = await trainGbdt({ train: reg, label, features, task: 'regression' }, { numTrees: 60 });
    const probe = (x1: number): number =>
      fitted.predict({
        rows: 1,
        columns: {
          x1: Float64Array.of(x1),
          x2: Float64Array.of(0),
          steps: Float64Array.of(3),
          city: ['c5'],
          noise: Float64Array.of(0),
        },
      })[0] ?? 0;
    expect(probe(Number.NaN)).toBeGreaterThan(probe(-0.8) + 1);
  });
});

describe('trainGbdt validation', () => {
  const train = syntheticTable({ rows: 200, task: 'binary', seed: 61 });
  const base: TrainInput = { train, label, features, task: 'binary' };
  const rejects = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('VALIDATION_FAILED');
    expect((err as AppError).message).toMatch(message);
  };

  it('rejects bad and unknown parameters with a clear message', async () => {
    await rejects(trainGbdt(base, { numLeaves: 1 }), /numLeaves.*\[2, 65536\]/);
    await rejects(trainGbdt(base, { maxBins: 300 }), /maxBins/);
    await rejects(trainGbdt(base, { learningRate: 0 }), /learningRate/);
    await rejects(trainGbdt(base, { rowSubsample: 1.5 }), /rowSubsample/);
    await rejects(trainGbdt(base, { numTrees: Number.NaN }), /numTrees/);
    await rejects(trainGbdt(base, { numTree: 10 } as never), /unknown GBDT parameter 'numTree'/);
  });

  it('rejects inputs that do not fit the task', async () => {
    const y = Float64Array.from(yOf(train), (v, i) => (i === 3 ? 2 : v));
    await rejects(trainGbdt({ ...base, train: { rows: train.rows, columns: { ...train.columns, y } } }), /0 or 1.*row 3/);
    await rejects(trainGbdt({ ...base, features: [...features, { name: 'nope', kind: 'numeric' }] }), /'nope' is missing/);
    await rejects(trainGbdt({ ...base, features: [{ name: 'city', kind: 'numeric' }] }), /Float64Array/);
    await rejects(
      trainGbdt({
        ...base,
        features: [{ name: 'probability', kind: 'numeric' }],
        train: { rows: 200, columns: { ...train.columns, probability: new Float64Array(200) } },
      }),
      /clashes/,
    );
  });
});
