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

export const outputNames = (task: Task): string[] => (task === 'binary' ? ['probability', 'label'] : ['prediction']);

/** Flattens the trees into TreeEnsembleRegressor's parallel attribute arrays. */
function treeEnsembleNode(trees: Tree[], baseScore: number, output: string): NodeSpec {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const leafTree: number[] = [];
  const leafNode: number[] = [];
  const leafWeight: number[] = [];
  trees.forEach((tree, t) => {
    for (let n = 0; n < tree.feature.length; n++) {
      const f = tree.feature[n] as number;
      const leaf = f < 0;
      treeIds.push(t);
      nodeIds.push(n);
      featureIds.push(leaf ? 0 : f);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : (tree.threshold[n] as number));
      // BRANCH_LEQ's true branch is x <= threshold: the left child, and missing values when they go left.
      trueIds.push(leaf ? 0 : (tree.left[n] as number));
      falseIds.push(leaf ? 0 : (tree.right[n] as number));
      missingTrue.push(leaf ? 0 : (tree.missingLeft[n] as number));
      if (leaf) {
        leafTree.push(t);
        leafNode.push(n);
        leafWeight.push(tree.value[n] as number);
      }
    }
  });
  return {
    opType: 'TreeEnsembleRegressor',
    domain: ML,
    name: 'gbdt.trees',
    inputs: [FEATURES],
    outputs: [output],
    attributes: {
      aggregate_function: 'SUM',
      post_transform: 'NONE',
      n_targets: 1,
      base_values: { floats: [baseScore] },
      nodes_treeids: { ints: treeIds },
      nodes_nodeids: { ints: nodeIds },
      nodes_featureids: { ints: featureIds },
      nodes_modes: modes,
      nodes_values: { floats: values },
      nodes_truenodeids: { ints: trueIds },
      nodes_falsenodeids: { ints: falseIds },
      nodes_missing_value_tracks_true: { ints: missingTrue },
      target_treeids: { ints: leafTree },
      target_nodeids: { ints: leafNode },
      target_ids: { ints: leafTree.map(() => 0) },
      target_weights: { floats: leafWeight },
    },
  };
}

/**
 * The whole model as one graph: categorical strings → LabelEncoder codes (missing and unseen → NaN,
 * the same as training), numeric inputs as they are, Concat into [batch, F], then the tree ensemble.
 */
export function exportGbdtOnnx(task: Task, features: FeatureBins[], trees: Tree[], baseScore: number): Uint8Array {
  const outputs = outputNames(task);
  const reserved = new Set([...outputs, FEATURES, MARGIN, HALF]);
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
  nodes.push(treeEnsembleNode(trees1, baseScore, binary ? MARGIN : 'prediction'));
  if (binary) {
    nodes.push({ opType: 'Sigmoid', name: 'gbdt.sigmoid', inputs: [MARGIN], outputs: ['probability'] });
    nodes.push({ opType: 'GreaterOrEqual', name: 'gbdt.threshold', inputs: ['probability', HALF], outputs: ['gbdt.positive'] });
    nodes.push({ opType: 'Cast', name: 'gbdt.label', inputs: ['gbdt.positive'], outputs: ['label'], attributes: { to: INT64 } });
  }
  return buildOnnxModel({
    inputs: features.map((fb) => ({ name: fb.spec.name, dtype: fb.codes ? 'string' : 'float32', shape: ['batch', 1] })),
    outputs: outputs.map((name) => ({ name, dtype: name === 'label' ? 'int64' : 'float32', shape: ['batch', 1] })),
    nodes,
    initializers: binary ? [{ name: HALF, dtype: 'float32', dims: [], values: [0.5] }] : [],
    opsets: [
      { domain: '', version: 17 },
      { domain: ML, version: 3 },
    ],
    graphName: 'gbdt',
  });
}

function leafOnlyTree(): Tree {
  return {
    feature: Int32Array.of(-1),
    bin: new Int32Array(1),
    threshold: new Float64Array(1),
    missingLeft: new Uint8Array(1),
    left: new Int32Array(1),
    right: new Int32Array(1),
    value: new Float64Array(1),
  };
}
