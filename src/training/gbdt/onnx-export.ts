import { AppError } from '../../core/index.ts';
import { buildOnnxModel } from '../../registry/index.ts';
import type { Task } from '../training-types.ts';
import type { FeatureBins } from './binning.ts';
import type { Tree } from './tree.ts';

type OnnxModelSpec = Parameters<typeof buildOnnxModel>[0];
type NodeSpec = OnnxModelSpec['nodes'][number];

const ML = 'ai.onnx.ml';
const INT64 = 7;
const FEATURES = 'gbdt.features';
const MARGIN = 'gbdt.margin';
const HALF = 'gbdt.half';
const SUM = 'gbdt.sum';
const BASE = 'gbdt.base';

export const outputNames = (task: Task): string[] => (task === 'binary' ? ['probability', 'label'] : ['prediction']);

const BRANCH_LEQ = 0;
const BRANCH_MEMBER = 6;

const tensor = (dtype: 'float32' | 'uint8', values: number[]) => ({ tensor: { dtype, dims: [values.length], values } });

/**
 * Flattens the trees into the attributes of ai.onnx.ml TreeEnsemble (opset 5): interior nodes index
 * `nodes_*`, leaves index `leaf_*`. Numeric splits are BRANCH_LEQ on the float32 cut; categorical set
 * splits are BRANCH_MEMBER on the category codes, whose members `membership_values` lists per node.
 */
function treeEnsembleNode(trees: Tree[], output: string): NodeSpec {
  const roots: number[] = [];
  const featureIds: number[] = [];
  const modes: number[] = [];
  const splits: number[] = [];
  const members: number[] = [];
  const trueIds: number[] = [];
  const trueLeaf: number[] = [];
  const falseIds: number[] = [];
  const falseLeaf: number[] = [];
  const missingTrue: number[] = [];
  const leafWeights: number[] = [];
  for (const tree of trees) {
    const index = new Int32Array(tree.feature.length);
    let interior = featureIds.length;
    let leaves = leafWeights.length;
    for (let n = 0; n < tree.feature.length; n++) index[n] = (tree.feature[n] as number) < 0 ? leaves++ : interior++;
    const isLeaf = (n: number): boolean => (tree.feature[n] as number) < 0;
    if (isLeaf(0)) {
      // A tree that is one leaf still needs a root node: a split whose both sides reach that leaf's value.
      roots.push(featureIds.length);
      featureIds.push(0);
      modes.push(BRANCH_LEQ);
      splits.push(0);
      trueIds.push(leafWeights.length);
      falseIds.push(leafWeights.length + 1);
      trueLeaf.push(1);
      falseLeaf.push(1);
      missingTrue.push(0);
      leafWeights.push(tree.value[0] as number, tree.value[0] as number);
      continue;
    }
    roots.push(index[0] as number);
    for (let n = 0; n < tree.feature.length; n++) {
      if (isLeaf(n)) {
        leafWeights.push(tree.value[n] as number);
        continue;
      }
      const set = tree.sets[n];
      featureIds.push(tree.feature[n] as number);
      if (set) {
        modes.push(BRANCH_MEMBER);
        splits.push(Number.NaN);
        set.forEach((inSet, code) => {
          if (inSet === 1) members.push(code);
        });
        members.push(Number.NaN);
      } else {
        modes.push(BRANCH_LEQ);
        splits.push(tree.threshold[n] as number);
      }
      // The true branch is x <= threshold (or x in the set): the left child, and missing values when they go left.
      const l = tree.left[n] as number;
      const r = tree.right[n] as number;
      trueIds.push(index[l] as number);
      trueLeaf.push(isLeaf(l) ? 1 : 0);
      falseIds.push(index[r] as number);
      falseLeaf.push(isLeaf(r) ? 1 : 0);
      missingTrue.push(tree.missingLeft[n] as number);
    }
  }
  return {
    opType: 'TreeEnsemble',
    domain: ML,
    name: 'gbdt.trees',
    inputs: [FEATURES],
    outputs: [output],
    attributes: {
      aggregate_function: 1, // SUM
      post_transform: 0, // NONE
      n_targets: 1,
      tree_roots: { ints: roots },
      nodes_featureids: { ints: featureIds },
      nodes_modes: tensor('uint8', modes),
      nodes_splits: tensor('float32', splits),
      nodes_truenodeids: { ints: trueIds },
      nodes_trueleafs: { ints: trueLeaf },
      nodes_falsenodeids: { ints: falseIds },
      nodes_falseleafs: { ints: falseLeaf },
      nodes_missing_value_tracks_true: { ints: missingTrue },
      ...(members.length > 0 ? { membership_values: tensor('float32', members) } : {}),
      leaf_targetids: { ints: leafWeights.map(() => 0) },
      leaf_weights: tensor('float32', leafWeights),
    },
  };
}

/**
 * The whole model as one graph: categorical strings → LabelEncoder codes (missing and unseen → NaN,
 * the same as training), numeric inputs as they are, Concat into [batch, F], then the tree ensemble.
 */
export function exportGbdtOnnx(task: Task, features: FeatureBins[], trees: Tree[], baseScore: number): Uint8Array {
  const outputs = outputNames(task);
  const reserved = new Set([...outputs, FEATURES, MARGIN, HALF, SUM, BASE]);
  const nodes: NodeSpec[] = [];
  const columns = features.map((fb, f) => {
    const name = fb.spec.name;
    if (reserved.has(name) || name.startsWith('gbdt.')) {
      throw new AppError('VALIDATION_FAILED', `feature name '${name}' clashes with a name the GBDT graph uses`);
    }
    if (!fb.codes) return name;
    const coded = `gbdt.code.${f}`;
    // '' is listed so the key list is never empty (an empty list would not encode as strings).
    const keys = ['', ...fb.codes.keys()];
    const values = [Number.NaN, ...fb.codes.values()];
    nodes.push({
      opType: 'LabelEncoder',
      domain: ML,
      name: `gbdt.encode.${f}`,
      inputs: [name],
      outputs: [coded],
      attributes: { keys_strings: keys, values_floats: { floats: values }, default_float: { float: Number.NaN } },
    });
    return coded;
  });
  nodes.push({ opType: 'Concat', name: 'gbdt.concat', inputs: columns, outputs: [FEATURES], attributes: { axis: 1 } });
  const trees1 = trees.length > 0 ? trees : [leafOnlyTree()];
  const binary = task === 'binary';
  nodes.push(treeEnsembleNode(trees1, SUM));
  // TreeEnsemble has no base score: the trees' float32 sum, then the base, as the trainer adds them.
  nodes.push({ opType: 'Add', name: 'gbdt.add_base', inputs: [SUM, BASE], outputs: [binary ? MARGIN : 'prediction'] });
  if (binary) {
    nodes.push({ opType: 'Sigmoid', name: 'gbdt.sigmoid', inputs: [MARGIN], outputs: ['probability'] });
    nodes.push({ opType: 'GreaterOrEqual', name: 'gbdt.threshold', inputs: ['probability', HALF], outputs: ['gbdt.positive'] });
    nodes.push({ opType: 'Cast', name: 'gbdt.label', inputs: ['gbdt.positive'], outputs: ['label'], attributes: { to: INT64 } });
  }
  return buildOnnxModel({
    inputs: features.map((fb) => ({ name: fb.spec.name, dtype: fb.codes ? 'string' : 'float32', shape: ['batch', 1] })),
    outputs: outputs.map((name) => ({ name, dtype: name === 'label' ? 'int64' : 'float32', shape: ['batch', 1] })),
    nodes,
    initializers: [
      { name: BASE, dtype: 'float32', dims: [], values: [baseScore] },
      ...(binary ? [{ name: HALF, dtype: 'float32' as const, dims: [], values: [0.5] }] : []),
    ],
    // ai.onnx.ml 5 brings TreeEnsemble, whose BRANCH_MEMBER expresses categorical set splits.
    opsets: [
      { domain: '', version: 21 },
      { domain: ML, version: 5 },
    ],
    irVersion: 10,
    graphName: 'gbdt',
  });
}

function leafOnlyTree(): Tree {
  return {
    feature: Int32Array.of(-1),
    bin: new Int32Array(1),
    threshold: new Float64Array(1),
    sets: [undefined],
    missingLeft: new Uint8Array(1),
    left: new Int32Array(1),
    right: new Int32Array(1),
    value: new Float64Array(1),
  };
}
