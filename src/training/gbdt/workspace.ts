import type { Split } from './histogram.ts';

/**
 * Working copies of the sampled rows' bins and gradients, kept in leaf order: every leaf owns a
 * contiguous range, so histogram building reads memory sequentially instead of hopping across rows.
 */
export interface Workspace {
  /** The original row index at each position. */
  order: Uint32Array;
  bins: Uint8Array;
  /** The same memory as `bins`, a row being `stride / 4` words. */
  words: Uint32Array;
  gh: Float64Array;
  spareOrder: Uint32Array;
  spareWords: Uint32Array;
  spareGh: Float64Array;
}

export function newWorkspace(rows: number, stride: number): Workspace {
  const words = new Uint32Array((rows * stride) / 4);
  return {
    order: new Uint32Array(rows),
    bins: new Uint8Array(words.buffer),
    words,
    gh: new Float64Array(2 * rows),
    spareOrder: new Uint32Array(rows),
    spareWords: new Uint32Array(words.length),
    spareGh: new Float64Array(2 * rows),
  };
}

/** Copies rows `order[0..count)` into the workspace; without sampling `order` is the identity. */
export function gather(work: Workspace, bins: Uint8Array, gh: Float64Array, stride: number, count: number): void {
  if (count === work.order.length) {
    work.bins.set(bins);
    work.gh.set(gh);
    return;
  }
  const source = new Uint32Array(bins.buffer, bins.byteOffset, bins.length / 4);
  const w = stride / 4;
  for (let k = 0; k < count; k++) {
    const r = work.order[k] as number;
    for (let j = 0; j < w; j++) work.words[k * w + j] = source[r * w + j] as number;
    work.gh[2 * k] = gh[2 * r] as number;
    work.gh[2 * k + 1] = gh[2 * r + 1] as number;
  }
}

/** Stable partition of a leaf's positions (order, bins and gradients move together); returns where the right child starts. */
export function partition(work: Workspace, stride: number, start: number, end: number, split: Split, missingBin: number): number {
  const { order, bins, words, gh, spareOrder, spareWords, spareGh } = work;
  const w = stride / 4;
  const f = split.feature;
  const set = split.set;
  let l = start;
  let r = 0;
  for (let k = start; k < end; k++) {
    const b = bins[k * stride + f] as number;
    if (set ? set[b] === 1 : b === missingBin ? split.missingLeft : b <= split.bin) {
      if (l !== k) {
        order[l] = order[k] as number;
        for (let j = 0; j < w; j++) words[l * w + j] = words[k * w + j] as number;
        gh[2 * l] = gh[2 * k] as number;
        gh[2 * l + 1] = gh[2 * k + 1] as number;
      }
      l++;
    } else {
      spareOrder[r] = order[k] as number;
      for (let j = 0; j < w; j++) spareWords[r * w + j] = words[k * w + j] as number;
      spareGh[2 * r] = gh[2 * k] as number;
      spareGh[2 * r + 1] = gh[2 * k + 1] as number;
      r++;
    }
  }
  order.set(spareOrder.subarray(0, r), l);
  words.set(spareWords.subarray(0, r * w), l * w);
  gh.set(spareGh.subarray(0, 2 * r), 2 * l);
  return l;
}
