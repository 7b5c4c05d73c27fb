import { buildHistogram, findBestSplit, histogramTotals, type Split, type SplitRules, subtractHistogram } from './histogram.ts';
import { partition, type Workspace } from './workspace.ts';

/** One regression tree, node 0 the root. Leaves have feature -1 and a float32 value (learning rate applied). */
export interface Tree {
  feature: Int32Array;
  /** Training-time threshold as a bin index; `threshold` is the same cut as a float32 value. */
  bin: Int32Array;
  threshold: Float64Array;
  /** Set splits (categorical features): a mask over the feature's bins, which are its category codes; 1 goes left. */
  sets: (Uint8Array | undefined)[];
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface GrowContext {
  /** All training rows' bins and gradients in row order. */
  bins: Uint8Array;
  stride: number;
  /** Histogram offsets per feature (length features + 1); a feature's last bin is its missing bin. */
  offsets: Int32Array;
  /** Per feature: its thresholds, last one +Infinity. */
  thresholds: Float64Array[];
  /** Per feature: 1 when categorical (split on sets of categories, not thresholds). */
  categorical: Uint8Array;
  gh: Float32Array;
  rules: SplitRules;
  maxDepth: number;
  numLeaves: number;
  learningRate: number;
  work: Workspace;
  pool: Float64Array[];
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array | undefined;
  totals: [number, number, number];
  split: Split | undefined;
}

function newLeaf(node: number, start: number, end: number, depth: number, totals: [number, number, number]): Leaf {
  return { node, start, end, depth, hist: undefined, totals, split: undefined };
}

function takeHist(ctx: GrowContext): Float64Array {
  return ctx.pool.pop() ?? new Float64Array((ctx.offsets.at(-1) ?? 0) * 3);
}

function release(ctx: GrowContext, leaf: Leaf): void {
  if (leaf.hist) ctx.pool.push(leaf.hist);
  leaf.hist = undefined;
}

function newTree(capacity: number): Tree {
  return {
    feature: new Int32Array(capacity).fill(-1),
    bin: new Int32Array(capacity),
    threshold: new Float64Array(capacity),
    sets: new Array<Uint8Array | undefined>(capacity).fill(undefined),
    missingLeft: new Uint8Array(capacity),
    left: new Int32Array(capacity),
    right: new Int32Array(capacity),
    value: new Float64Array(capacity),
  };
}

/**
 * Grows one tree best-first over rows `work.order[0..count)`: always splits the leaf whose best split
 * gains most, until `numLeaves` leaves or nothing gains. Leaves own contiguous ranges of `work.order`.
 */
export function growTree(ctx: GrowContext, count: number, features: Int32Array): { tree: Tree; leaves: Leaf[] } {
  const { work } = ctx;
  const tree = newTree(2 * ctx.numLeaves - 1);
  const rootHist = takeHist(ctx);
  buildHistogram(
    rootHist,
    ctx.bins,
    ctx.stride,
    ctx.offsets,
    features,
    ctx.gh,
    work.order,
    0,
    count,
    count === work.order.length,
  );
  const root = newLeaf(0, 0, count, 0, histogramTotals(rootHist, ctx.offsets, features[0] as number));
  root.hist = rootHist;
  const evaluate = (leaf: Leaf): void => {
    leaf.split =
      leaf.depth < ctx.maxDepth && leaf.hist
        ? findBestSplit(leaf.hist, ctx.offsets, features, ctx.categorical, leaf.totals, ctx.rules)
        : undefined;
    if (!leaf.split) release(ctx, leaf);
  };
  evaluate(root);
  const leaves: Leaf[] = [root];
  let nodes = 1;
  while (leaves.length < ctx.numLeaves) {
    let pick = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i]?.split;
      if (s && (pick < 0 || s.gain > (leaves[pick]?.split?.gain ?? 0))) pick = i;
    }
    const parent = leaves[pick];
    const split = parent?.split;
    if (!parent || !split || !parent.hist) break;
    const missingBin = (ctx.offsets[split.feature + 1] as number) - (ctx.offsets[split.feature] as number) - 1;
    const mid = partition(work, parent.start, parent.end, split, missingBin);
    const [G, H, C] = parent.totals;
    const depth = parent.depth + 1;
    const leftTotals: [number, number, number] = [split.leftG, split.leftH, split.leftCount];
    const rightTotals: [number, number, number] = [G - split.leftG, H - split.leftH, C - split.leftCount];
    const left = newLeaf(nodes, parent.start, mid, depth, leftTotals);
    const right = newLeaf(nodes + 1, mid, parent.end, depth, rightTotals);
    const n = parent.node;
    tree.feature[n] = split.feature;
    tree.bin[n] = split.bin;
    tree.threshold[n] = split.set ? Number.NaN : (ctx.thresholds[split.feature]?.[split.bin] ?? Number.POSITIVE_INFINITY);
    tree.sets[n] = split.set;
    tree.missingLeft[n] = split.missingLeft ? 1 : 0;
    tree.left[n] = left.node;
    tree.right[n] = right.node;
    nodes += 2;
    // The split that reaches numLeaves is the last one, so its children need no histograms.
    const last = leaves.length + 1 >= ctx.numLeaves;
    const splittable = (leaf: Leaf): boolean =>
      !last && depth < ctx.maxDepth && leaf.end - leaf.start >= 2 * ctx.rules.minDataInLeaf;
    // Only the smaller child is summed from its rows; the larger one is its parent minus it.
    const [small, large] = mid - parent.start <= parent.end - mid ? [left, right] : [right, left];
    if (splittable(small) || splittable(large)) {
      small.hist = takeHist(ctx);
      buildHistogram(small.hist, ctx.bins, ctx.stride, ctx.offsets, features, ctx.gh, work.order, small.start, small.end, false);
    }
    if (small.hist && splittable(large)) {
      large.hist = parent.hist;
      subtractHistogram(large.hist, small.hist);
      parent.hist = undefined;
    } else release(ctx, parent);
    leaves.splice(pick, 1, left, right);
    evaluate(left);
    evaluate(right);
  }
  const { lambda } = ctx.rules;
  for (const leaf of leaves) {
    release(ctx, leaf);
    const [g, h] = leaf.totals;
    // A leaf of zero-weight rows has no curvature to fit; it keeps the score it already has.
    tree.value[leaf.node] = h + lambda > 0 ? Math.fround((-g / (h + lambda)) * ctx.learningRate) : 0;
  }
  return { tree: trimTree(tree, nodes), leaves };
}

function trimTree(t: Tree, n: number): Tree {
  return {
    feature: t.feature.slice(0, n),
    bin: t.bin.slice(0, n),
    threshold: t.threshold.slice(0, n),
    sets: t.sets.slice(0, n),
    missingLeft: t.missingLeft.slice(0, n),
    left: t.left.slice(0, n),
    right: t.right.slice(0, n),
    value: t.value.slice(0, n),
  };
}

/** Adds the tree's output to `scores` for rows given by their bins (training and validation rows). */
export function addTreeByBins(
  tree: Tree,
  bins: Uint8Array,
  stride: number,
  missingBins: Int32Array,
  scores: Float64Array,
  skip?: Uint8Array,
): void {
  const { feature, bin, sets, missingLeft, left, right, value } = tree;
  for (let r = 0; r < scores.length; r++) {
    if (skip && skip[r] === 1) continue;
    let node = 0;
    let f = feature[0] as number;
    while (f >= 0) {
      const b = bins[r * stride + f] as number;
      const set = sets[node];
      const goLeft = set ? set[b] === 1 : b === missingBins[f] ? missingLeft[node] === 1 : b <= (bin[node] as number);
      node = (goLeft ? left[node] : right[node]) as number;
      f = feature[node] as number;
    }
    scores[r] = (scores[r] as number) + (value[node] as number);
  }
}

/** The leaf a float32 feature row reaches, comparing as ONNX Runtime's BRANCH_LEQ and BRANCH_MEMBER do. */
export function leafValue(tree: Tree, x: Float32Array, at: number): number {
  const { feature, threshold, sets, missingLeft, left, right, value } = tree;
  let node = 0;
  let f = feature[0] as number;
  while (f >= 0) {
    const v = x[at + f] as number;
    const set = sets[node];
    // A set split's input is a category code, an integer below the set's length, or NaN (missing: right).
    const goLeft = set ? set[v] === 1 : v <= (threshold[node] as number) || (Number.isNaN(v) && missingLeft[node] === 1);
    node = (goLeft ? left[node] : right[node]) as number;
    f = feature[node] as number;
  }
  return value[node] as number;
}
