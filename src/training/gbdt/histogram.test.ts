import { describe, expect, it } from 'vitest';
import { buildHistogram } from './histogram.ts';

/** The plain definition: per offered feature and bin, sums of g, h and a count over the rows listed. */
function naive(bins: Uint8Array, stride: number, offsets: Int32Array, features: number[], gh: Float32Array, rows: number[]) {
  const hist = new Float64Array((offsets.at(-1) ?? 0) * 3);
  for (const r of rows) {
    for (const f of features) {
      const at = ((offsets[f] as number) + (bins[r * stride + f] as number)) * 3;
      hist[at] = (hist[at] as number) + (gh[2 * r] as number);
      hist[at + 1] = (hist[at + 1] as number) + (gh[2 * r + 1] as number);
      hist[at + 2] = (hist[at + 2] as number) + 1;
    }
  }
  return hist;
}

describe('GBDT histograms', () => {
  // 10 features: rows are 12 bytes apart. Column sampling may offer a prefix such as [0, 1, 2],
  // which must still step through rows 12 bytes at a time.
  const features = 10;
  const stride = 12;
  const rows = 50;
  const binsPer = 5;
  const offsets = Int32Array.from({ length: features + 1 }, (_, f) => f * (binsPer + 1));
  const bins = Uint8Array.from({ length: rows * stride }, (_, i) => (i * 7 + (i >> 3)) % binsPer);
  const gh = Float32Array.from({ length: 2 * rows }, (_, i) => ((i * 13) % 17) / 8 - 1);
  const order = Uint32Array.from({ length: rows }, (_, i) => (i * 3) % rows);

  for (const offered of [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [0, 1, 2],
    [1, 4, 9],
  ]) {
    it(`sums rows listed by order, and rows in sequence, for features [${offered.join(', ')}]`, () => {
      const hist = new Float64Array((offsets.at(-1) ?? 0) * 3);
      const list = Int32Array.from(offered);
      buildHistogram(hist, bins, stride, offsets, list, gh, order, 10, 40, false);
      expect(Array.from(hist)).toEqual(Array.from(naive(bins, stride, offsets, offered, gh, Array.from(order.subarray(10, 40)))));
      const identity = Uint32Array.from({ length: rows }, (_, i) => i);
      buildHistogram(hist, bins, stride, offsets, list, gh, identity, 0, rows, true);
      expect(Array.from(hist)).toEqual(Array.from(naive(bins, stride, offsets, offered, gh, Array.from(identity))));
    });
  }
});
