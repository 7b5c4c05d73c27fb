import type { buildOnnxModel } from '../../registry/index.ts';
import type { Preprocessing } from './fit-preprocessing.ts';

// The registry index exports the builder but not its spec types; derive them from its parameter.
type OnnxModelSpec = Parameters<typeof buildOnnxModel>[0];
export type OnnxNode = OnnxModelSpec['nodes'][number];
export type OnnxInitializer = NonNullable<OnnxModelSpec['initializers']>[number];
export type OnnxValue = OnnxModelSpec['inputs'][number];
export type OnnxOpset = NonNullable<OnnxModelSpec['opsets']>[number];

/** A piece of graph: its inputs, what it computes, and the name of the tensor it produces. */
export interface OnnxGraphPart {
  inputs: OnnxValue[];
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  opsets: OnnxOpset[];
  /** float32 [batch, width]: the design matrix, column for column what transformTable encodes. */
  output: string;
  width: number;
}

export const PREPROCESSING_OPSETS: OnnxOpset[] = [
  { domain: '', version: 17 },
  // Same opsets as the GBDT export; LabelEncoder resolves to its version 2 (string keys → int64 values).
  { domain: 'ai.onnx.ml', version: 3 },
];

// A LabelEncoder needs at least one key; a feature never seen with a value maps only this (NUL-prefixed,
// so no real input matches it in practice) key, and everything lands in the block's single other column.
const PLACEHOLDER_KEY = '\u0000keel:no-categories';

/**
 * ONNX nodes that compute the same design matrix as transformTable. Inputs: one per feature, named after
 * it; numeric float32 [batch,1] (NaN = missing), categorical string [batch,1] ('' = missing).
 * Numeric: Concat → Where(IsNaN, mean) → Sub mean → Div std. Categorical: ai.onnx.ml LabelEncoder string →
 * block column (default: the other column), then Equal against 0..width-1 and Cast, i.e. a one-hot row.
 */
export function preprocessingOnnx(prep: Preprocessing, output = 'keel.features'): OnnxGraphPart {
  const inputs: OnnxValue[] = [];
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const blocks: string[] = [];
  for (const f of prep.features) {
    inputs.push({ name: f.name, dtype: f.kind === 'numeric' ? 'float32' : 'string', shape: ['batch', 1] });
  }
  const k = prep.numeric.length;
  if (k > 0) {
    initializers.push(
      { name: 'keel.numeric.mean', dtype: 'float32', dims: [k], values: prep.numeric.map((n) => n.mean) },
      { name: 'keel.numeric.std', dtype: 'float32', dims: [k], values: prep.numeric.map((n) => n.std) },
    );
    const raw = prep.numeric.map((n) => n.name);
    nodes.push(
      { opType: 'Concat', inputs: raw, outputs: ['keel.numeric.raw'], name: 'keel.numeric.concat', attributes: { axis: 1 } },
      { opType: 'IsNaN', inputs: ['keel.numeric.raw'], outputs: ['keel.numeric.missing'], name: 'keel.numeric.isnan' },
      {
        opType: 'Where',
        inputs: ['keel.numeric.missing', 'keel.numeric.mean', 'keel.numeric.raw'],
        outputs: ['keel.numeric.imputed'],
        name: 'keel.numeric.impute',
      },
      {
        opType: 'Sub',
        inputs: ['keel.numeric.imputed', 'keel.numeric.mean'],
        outputs: ['keel.numeric.centered'],
        name: 'keel.numeric.center',
      },
      {
        opType: 'Div',
        inputs: ['keel.numeric.centered', 'keel.numeric.std'],
        outputs: ['keel.numeric.scaled'],
        name: 'keel.numeric.scale',
      },
    );
    blocks.push('keel.numeric.scaled');
  }
  prep.categorical.forEach((c, q) => {
    const p = `keel.categorical${q}`;
    const keys = c.index.size > 0 ? [...c.index.keys()] : [PLACEHOLDER_KEY];
    const values = c.index.size > 0 ? [...c.index.values()] : [c.otherColumn];
    initializers.push({
      name: `${p}.columns`,
      dtype: 'int64',
      dims: [c.width],
      values: Array.from({ length: c.width }, (_, i) => i),
    });
    nodes.push(
      {
        opType: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: [c.name],
        outputs: [`${p}.column`],
        name: `${p}.lookup`,
        attributes: { keys_strings: keys, values_int64s: { ints: values }, default_int64: { int: c.otherColumn } },
      },
      { opType: 'Equal', inputs: [`${p}.column`, `${p}.columns`], outputs: [`${p}.hot`], name: `${p}.equal` },
      { opType: 'Cast', inputs: [`${p}.hot`], outputs: [`${p}.onehot`], name: `${p}.cast`, attributes: { to: 1 } },
    );
    blocks.push(`${p}.onehot`);
  });
  nodes.push({ opType: 'Concat', inputs: blocks, outputs: [output], name: 'keel.features.concat', attributes: { axis: 1 } });
  return { inputs, nodes, initializers, opsets: PREPROCESSING_OPSETS, output, width: prep.width };
}
