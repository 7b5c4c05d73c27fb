import type { Table, TrainedModel, TrainInput, TrainingCurvePoint } from '../training-types.ts';
import { binTable, type FeatureBins, featureValues, fitFeatureBins } from './binning.ts';
import { checkInput } from './input.ts';
import { objectiveFor } from './objective.ts';
import { exportGbdtOnnx } from './onnx-export.ts';
import { type GbdtParams, resolveParams, seededRandom } from './params.ts';
import { addTreeByBins, type GrowContext, growTree, leafValue, type Tree } from './tree.ts';
import { newWorkspace } from './workspace.ts';

/** Histogram GBDT (leaf-wise, LightGBM-style) for binary log loss or squared error, exported as ONNX. */
export async function trainGbdt(input: TrainInput, given?: Partial<GbdtParams>): Promise<TrainedModel> {
  const p = resolveParams(given, input.seed);
  const { y, validY } = checkInput(input);
  const { train, task, weights } = input;
  const random = seededRandom(p.seed);
  const fbs = fitFeatureBins(train, input.features, p.maxBins, random, weights);
  const binned = binTable(train, fbs);
  const validBinned = validY && input.valid ? binTable(input.valid, fbs) : undefined;
  const offsets = new Int32Array(fbs.length + 1);
  fbs.forEach((fb, f) => {
    offsets[f + 1] = (offsets[f] as number) + fb.numBins + 1;
  });
  const missingBins = Int32Array.from(fbs, (fb) => fb.numBins);
  const n = train.rows;
  const objective = objectiveFor(task);
  const base = objective.initialScore(y, weights);
  const scores = new Float64Array(n).fill(base);
  const validScores = new Float64Array(validY?.length ?? 0).fill(base);
  const ctx: GrowContext = {
    bins: binned.bins,
    stride: binned.stride,
    offsets,
    thresholds: fbs.map((fb) => fb.thresholds),
    categorical: Uint8Array.from(fbs, (fb) => (fb.codes ? 1 : 0)),
    gh: new Float32Array(2 * n),
    rules: {
      lambda: p.lambda,
      minChildWeight: p.minChildWeight,
      minDataInLeaf: p.minDataInLeaf,
      maxCatToOnehot: p.maxCatToOnehot,
      maxCatThreshold: p.maxCatThreshold,
      catSmooth: p.catSmooth,
      catL2: p.catL2,
      minDataPerGroup: p.minDataPerGroup,
    },
    maxDepth: p.maxDepth,
    numLeaves: p.numLeaves,
    learningRate: p.learningRate,
    work: newWorkspace(n, binned.bins, binned.stride, fbs.length),
    pool: [],
  };
  const order = ctx.work.order;
  const inBag = p.rowSubsample < 1 ? new Uint8Array(n) : undefined;
  const featureCount = Math.max(1, Math.round(fbs.length * p.colSubsample));
  const allFeatures = Int32Array.from(fbs, (_, f) => f);
  const trees: Tree[] = [];
  const history: TrainingCurvePoint[] = [];
  const stopping = validY !== undefined && p.earlyStoppingRounds > 0;
  let best = { loss: Number.POSITIVE_INFINITY, trees: 0 };
  objective.gradients(scores, y, weights, ctx.gh);
  for (let iter = 1; iter <= p.numTrees; iter++) {
    const count = sampleRows(order, inBag, p.rowSubsample, random);
    const features = featureCount < fbs.length ? sampleFeatures(fbs.length, featureCount, random) : allFeatures;
    const { tree, leaves } = growTree(ctx, count, features);
    trees.push(tree);
    // In-bag rows already sit in their leaves' ranges; only out-of-bag rows need to walk the tree.
    for (const leaf of leaves) {
      const v = tree.value[leaf.node] as number;
      for (let k = leaf.start; k < leaf.end; k++) {
        const r = order[k] as number;
        scores[r] = (scores[r] as number) + v;
      }
    }
    if (inBag) addTreeByBins(tree, binned.bins, ctx.stride, missingBins, scores, inBag);
    // Next iteration's gradients come with this iteration's training loss.
    const point: TrainingCurvePoint = { step: iter, train: objective.gradients(scores, y, weights, ctx.gh) };
    if (validY && validBinned) {
      addTreeByBins(tree, validBinned.bins, ctx.stride, missingBins, validScores);
      point.valid = objective.loss(validScores, validY);
      if (point.valid < best.loss) best = { loss: point.valid, trees: iter };
    }
    history.push(point);
    if (stopping && iter - best.trees >= p.earlyStoppingRounds) break;
    // Yield between trees so a long fit does not starve the event loop of a server running it.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const iterations = trees.length;
  if (stopping) trees.length = best.trees;
  return makeModel(input, p, fbs, trees, base, history, {
    iterations,
    trees: trees.length,
    bestIteration: stopping ? best.trees : trees.length,
    leaves: trees.reduce((s, t) => s + t.feature.filter((f) => f < 0).length, 0),
    features: fbs.length,
    bins: offsets[fbs.length] as number,
    trainRows: n,
    validRows: validY?.length ?? 0,
    baseScore: base,
  });
}

/** Bagging draws a Bernoulli sample per tree; the mask marks the rows drawn, whose scores the leaves update directly. */
function sampleRows(order: Uint32Array, inBag: Uint8Array | undefined, fraction: number, random: () => number): number {
  if (!inBag) {
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order.length;
  }
  let count = 0;
  for (let i = 0; i < order.length; i++) {
    const take = random() < fraction;
    inBag[i] = take ? 1 : 0;
    if (take) order[count++] = i;
  }
  return count;
}

function sampleFeatures(total: number, count: number, random: () => number): Int32Array {
  const all = Int32Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (total - i));
    const t = all[i] as number;
    all[i] = all[j] as number;
    all[j] = t;
  }
  // Sorted so histograms are built in column order regardless of the draw.
  return all.subarray(0, count).sort();
}

function makeModel(
  input: TrainInput,
  p: GbdtParams,
  fbs: FeatureBins[],
  trees: Tree[],
  base: number,
  history: TrainingCurvePoint[],
  info: Record<string, number>,
): TrainedModel {
  const { task } = input;
  const onnx = exportGbdtOnnx(task, fbs, trees, base);
  return {
    kind: 'gbdt',
    task,
    features: input.features,
    onnx,
    predict: (table: Table) => predictRows(table, fbs, trees, base, task === 'binary'),
    params: { ...p },
    history,
    info,
  };
}

/** Mirrors onnxruntime: float32 inputs and thresholds, a float32 running sum over trees, then the base score. */
function predictRows(table: Table, fbs: FeatureBins[], trees: Tree[], base: number, binary: boolean): Float64Array {
  const n = table.rows;
  const nf = fbs.length;
  const x = new Float32Array(n * nf);
  fbs.forEach((fb, f) => {
    const values = featureValues(fb.spec, table.columns[fb.spec.name], n, fb.codes);
    for (let i = 0; i < n; i++) x[i * nf + f] = values[i] as number;
  });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const tree of trees) s = Math.fround(s + leafValue(tree, x, i * nf));
    s = Math.fround(s + base);
    out[i] = binary ? Math.fround(1 / (1 + Math.exp(-s))) : s;
  }
  return out;
}
