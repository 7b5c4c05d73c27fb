/**
 * Gradient histograms: per feature and bin, the sums of gradient, hessian and row count, stored
 * flat as `[g, h, count]` triples starting at `offsets[f] * 3`. A feature's last bin is its missing bin.
 */

import { bestSetSplit } from './categorical-split.ts';
import type { Split, SplitRules } from './split.ts';

export type { Split, SplitRules };

/**
 * Sums the rows `order[start..end)` into `hist` for the given features. Bins are row-major, so one
 * row's features share a cache line; `sequential` says the rows are exactly `start..end` (the root
 * without sampling), which lets the hottest loop read memory in order without the index.
 */
export function buildHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  stride: number,
  offsets: Int32Array,
  features: Int32Array,
  gh: Float32Array,
  order: Uint32Array,
  start: number,
  end: number,
  sequential: boolean,
): void {
  hist.fill(0);
  const nf = features.length;
  const base = new Int32Array(nf);
  let identity = true;
  for (let j = 0; j < nf; j++) {
    const f = features[j] as number;
    base[j] = offsets[f] as number;
    identity &&= f === j;
  }
  if (!identity) {
    buildSubsetHistogram(hist, bins, stride, base, features, gh, order, start, end);
    return;
  }
  kernelFor(offsets, nf, stride)(hist, bins, gh, order, start, end, sequential ? 1 : 0);
}

type Kernel = (
  hist: Float64Array,
  bins: Uint8Array,
  gh: Float32Array,
  order: Uint32Array,
  start: number,
  end: number,
  sequential: number,
) => void;

const kernels = new Map<string, Kernel>();

/**
 * The loop over features `0..nf)` (all of them, or a prefix column sampling drew), generated once
 * per layout with the row stride and each feature's histogram offset as constants and the feature
 * loop unrolled, so V8 needs no per-feature loads of offsets. Only numbers enter the source.
 */
function kernelFor(offsets: Int32Array, nf: number, stride: number): Kernel {
  const key = `${stride}:${Array.from(offsets.subarray(0, nf)).join(',')}`;
  let kernel = kernels.get(key);
  if (kernel) return kernel;
  const updates = Array.from({ length: nf }, (_, j) => {
    const off = (offsets[j] as number) * 3;
    return `a = ${off} + bins[row + ${j}] * 3; hist[a] += g; hist[a + 1] += h; hist[a + 2] += 1;`;
  }).join('\n      ');
  const source = `
    for (let k = start; k < end; k++) {
      const r = sequential === 1 ? k : order[k];
      const g = gh[2 * r];
      const h = gh[2 * r + 1];
      const row = r * ${stride};
      let a = 0;
      ${updates}
    }`;
  kernel = new Function('hist', 'bins', 'gh', 'order', 'start', 'end', 'sequential', source) as Kernel;
  kernels.set(key, kernel);
  return kernel;
}

function buildSubsetHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  stride: number,
  base: Int32Array,
  features: Int32Array,
  gh: Float32Array,
  order: Uint32Array,
  start: number,
  end: number,
): void {
  const nf = features.length;
  for (let k = start; k < end; k++) {
    const r = order[k] as number;
    const g = gh[2 * r] as number;
    const h = gh[2 * r + 1] as number;
    const row = r * stride;
    for (let j = 0; j < nf; j++) {
      const at = ((base[j] as number) + (bins[row + (features[j] as number)] as number)) * 3;
      hist[at] = (hist[at] as number) + g;
      hist[at + 1] = (hist[at + 1] as number) + h;
      hist[at + 2] = (hist[at + 2] as number) + 1;
    }
  }
}

/** `into = into - small`: the larger child's histogram from its parent's, without touching its rows. */
export function subtractHistogram(into: Float64Array, small: Float64Array): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) - (small[i] as number);
}

/** Sums of one feature's bins: the node's totals, consistent with the histogram's own rounding. */
export function histogramTotals(hist: Float64Array, offsets: Int32Array, feature: number): [number, number, number] {
  let g = 0;
  let h = 0;
  let c = 0;
  const from = (offsets[feature] as number) * 3;
  const to = (offsets[feature + 1] as number) * 3;
  for (let at = from; at < to; at += 3) {
    g += hist[at] as number;
    h += hist[at + 1] as number;
    c += hist[at + 2] as number;
  }
  return [g, h, c];
}

/**
 * The best split over the offered features, or undefined when none gains. Each threshold is tried
 * with the missing bin on either side, which is how the split learns where missing values go.
 */
export function findBestSplit(
  hist: Float64Array,
  offsets: Int32Array,
  features: Int32Array,
  categorical: Uint8Array,
  totals: [number, number, number],
  rules: SplitRules,
): Split | undefined {
  const [G, H, C] = totals;
  const { lambda, minChildWeight, minDataInLeaf } = rules;
  if (C < 2 * minDataInLeaf || H < 2 * minChildWeight) return undefined;
  const parentScore = (G * G) / (H + lambda);
  let best: Split | undefined;
  let bestGain = 1e-12 * Math.max(1, Math.abs(parentScore));
  for (let k = 0; k < features.length; k++) {
    const f = features[k] as number;
    const first = (offsets[f] as number) * 3;
    const missingAt = ((offsets[f + 1] as number) - 1) * 3;
    const numBins = (missingAt - first) / 3;
    if (categorical[f] === 1) {
      const set = bestSetSplit(hist, f, first, numBins, totals, rules, parentScore, bestGain);
      if (set) {
        best = set;
        bestGain = set.gain;
      }
      continue;
    }
    const mg = hist[missingAt] as number;
    const mh = hist[missingAt + 1] as number;
    const mc = hist[missingAt + 2] as number;
    for (let side = 0; side < 2; side++) {
      const missingLeft = side === 0;
      if (missingLeft && mc === 0) continue;
      let gl = missingLeft ? mg : 0;
      let hl = missingLeft ? mh : 0;
      let cl = missingLeft ? mc : 0;
      // The last bin only makes a split when it separates non-missing from missing rows.
      const lastBin = missingLeft || mc === 0 ? numBins - 2 : numBins - 1;
      for (let b = 0; b <= lastBin; b++) {
        const at = first + b * 3;
        gl += hist[at] as number;
        hl += hist[at + 1] as number;
        cl += hist[at + 2] as number;
        if (cl < minDataInLeaf || hl < minChildWeight) continue;
        const cr = C - cl;
        const hr = H - hl;
        if (cr < minDataInLeaf) break;
        if (hr < minChildWeight) continue;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          // Without missing rows here, unseen missing values follow the bigger child.
          const ml = mc === 0 ? cl >= cr : missingLeft;
          best = { gain, feature: f, bin: b, missingLeft: ml, leftG: gl, leftH: hl, leftCount: cl };
        }
      }
    }
  }
  return best;
}
