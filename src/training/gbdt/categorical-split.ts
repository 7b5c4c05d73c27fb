import type { Split, SplitRules } from './split.ts';

/**
 * The best set split of one categorical feature at one node, the way LightGBM searches it: with few
 * categories, each one against the rest; otherwise categories ranked by smoothed gradient ratio
 * g / (h + catSmooth), and the set grown from either end of that ranking, a step of at least
 * `minDataPerGroup` rows at a time, at most `maxCatThreshold` categories. Missing values and
 * categories too rare to be ranked go with the rest (right). Returns a split only if it beats `beat`.
 */
export function bestSetSplit(
  hist: Float64Array,
  feature: number,
  first: number,
  numBins: number,
  totals: [number, number, number],
  rules: SplitRules,
  parentScore: number,
  beat: number,
): Split | undefined {
  const [G, H, C] = totals;
  const { lambda, minChildWeight, minDataInLeaf } = rules;
  const best = { gain: beat, gl: 0, hl: 0, cl: 0, bins: [] as number[] };
  const consider = (gl: number, hl: number, cl: number, l2: number, bins: () => number[]): void => {
    const gr = G - gl;
    const hr = H - hl;
    const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
    if (!(gain > best.gain)) return;
    Object.assign(best, { gain, gl, hl, cl, bins: bins() });
  };
  if (numBins <= rules.maxCatToOnehot) {
    for (let b = 0; b < numBins; b++) {
      const at = first + b * 3;
      const gl = hist[at] as number;
      const hl = hist[at + 1] as number;
      const cl = hist[at + 2] as number;
      if (cl < minDataInLeaf || hl < minChildWeight || C - cl < minDataInLeaf || H - hl < minChildWeight) continue;
      consider(gl, hl, cl, lambda, () => [b]);
    }
  } else {
    const { catSmooth, catL2, maxCatThreshold, minDataPerGroup } = rules;
    const ranked: number[] = [];
    for (let b = 0; b < numBins; b++) if ((hist[first + b * 3 + 2] as number) >= catSmooth) ranked.push(b);
    const ratio = (b: number): number => (hist[first + b * 3] as number) / ((hist[first + b * 3 + 1] as number) + catSmooth);
    ranked.sort((a, b) => ratio(a) - ratio(b) || a - b);
    const used = ranked.length;
    const maxSet = Math.min(maxCatThreshold, Math.floor((used + 1) / 2));
    const l2 = lambda + catL2;
    for (const ascending of [true, false]) {
      let gl = 0;
      let hl = 0;
      let cl = 0;
      let group = 0;
      for (let i = 0; i < used && i < maxSet; i++) {
        const b = ranked[ascending ? i : used - 1 - i] as number;
        const at = first + b * 3;
        gl += hist[at] as number;
        hl += hist[at + 1] as number;
        const c = hist[at + 2] as number;
        cl += c;
        group += c;
        if (cl < minDataInLeaf || hl < minChildWeight) continue;
        const cr = C - cl;
        if (cr < minDataInLeaf || cr < minDataPerGroup || H - hl < minChildWeight) break;
        if (group < minDataPerGroup) continue;
        group = 0;
        const taken = i + 1;
        consider(gl, hl, cl, l2, () => (ascending ? ranked.slice(0, taken) : ranked.slice(used - taken)));
      }
    }
  }
  if (best.bins.length === 0) return undefined;
  const set = new Uint8Array(numBins + 1);
  for (const b of best.bins) set[b] = 1;
  return { gain: best.gain, feature, bin: -1, missingLeft: false, leftG: best.gl, leftH: best.hl, leftCount: best.cl, set };
}
