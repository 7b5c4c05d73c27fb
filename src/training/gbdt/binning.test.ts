import { describe, expect, it } from 'vitest';
import { binColumn, categoryThresholds, type FeatureBins, featureValues, fitCategoryCodes, fitThresholds } from './binning.ts';
import { seededRandom } from './params.ts';

function binsOf(values: Float64Array, maxBins: number): { fb: FeatureBins; codes: Uint8Array } {
  const thresholds = fitThresholds(values, maxBins, seededRandom(1));
  const fb: FeatureBins = { spec: { name: 'x', kind: 'numeric' }, thresholds, numBins: thresholds.length };
  const out = { rows: values.length, stride: 1, bins: new Uint8Array(values.length) };
  binColumn(values, fb, out, 0);
  return { fb, codes: out.bins };
}

describe('GBDT binning', () => {
  it('float32 comparisons against a threshold agree exactly with bin order', () => {
    const random = seededRandom(3);
    // Values closer together than float32 can tell apart, plus a long tail.
    const values = Float64Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? 1 + random() * 1e-7 : Math.exp(random() * 10)));
    const { fb, codes } = binsOf(values, 64);
    expect(fb.numBins).toBeLessThanOrEqual(64);
    let disagreements = 0;
    for (let b = 0; b < fb.numBins; b++) {
      const t = fb.thresholds[b] as number;
      expect(Math.fround(t)).toBe(t);
      for (let i = 0; i < values.length; i++) {
        if (Math.fround(values[i] as number) <= t !== (codes[i] as number) <= b) disagreements++;
      }
    }
    expect(disagreements).toBe(0);
  });

  it('gives a heavy value its own bin and missing values the last bin', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => (i < 600 ? 0 : i % 10 === 0 ? Number.NaN : i));
    const { fb, codes } = binsOf(values, 8);
    expect(codes[0]).toBe(0);
    expect(codes.filter((c) => c === 0).length).toBe(600);
    expect(codes[610]).toBe(fb.numBins);
    expect(fb.thresholds.at(-1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps one bin per distinct value when they fit', () => {
    const values = Float64Array.from({ length: 500 }, (_, i) => i % 5);
    const { fb, codes } = binsOf(values, 255);
    expect(fb.numBins).toBe(5);
    expect(Array.from(codes.slice(0, 5))).toEqual([0, 1, 2, 3, 4]);
  });

  it('codes categories by frequency; missing, empty and unseen categories become NaN', () => {
    const column = ['c', 'b', 'c', 'a', 'b', 'c', null, '', null];
    const codes = fitCategoryCodes(column, 255);
    expect([...codes.entries()]).toEqual([
      ['c', 0],
      ['b', 1],
      ['a', 2],
    ]);
    const values = featureValues({ name: 'k', kind: 'categorical' }, ['a', 'zz', null, '', 'b'], 5, codes);
    expect(Array.from(values)).toEqual([2, Number.NaN, Number.NaN, Number.NaN, 1]);
  });

  it('keeps the most frequent categories when there are more than bins; the rest share the missing bin', () => {
    const column = ['x', 'y', 'y', 'z', 'z', 'z', 'w'];
    const codes = fitCategoryCodes(column, 2);
    expect([...codes.keys()]).toEqual(['z', 'y']);
    const fb: FeatureBins = { spec: { name: 'k', kind: 'categorical' }, thresholds: categoryThresholds(2), numBins: 2, codes };
    const out = { rows: column.length, stride: 4, bins: new Uint8Array(column.length * 4) };
    binColumn(featureValues(fb.spec, column, column.length, codes), fb, out, 0);
    expect(Array.from({ length: column.length }, (_, i) => out.bins[i * 4])).toEqual([2, 1, 1, 0, 0, 0, 2]);
  });
});
