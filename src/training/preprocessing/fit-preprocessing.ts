import { AppError } from '../../core/index.ts';
import type { FeatureSpec, Table } from '../training-types.ts';
import { countCategories, hashedIndex, oneHotIndex } from './category-index.ts';
import { categoricalColumn, checkFeatureSpecs, checkTableShape, numericColumn } from './table-columns.ts';

export const DEFAULT_MAX_CATEGORIES = 100;
export const DEFAULT_HASH_BUCKETS = 32;

/** Mean imputation then standardisation; both stored as float32 because that is what the graph computes with. */
export interface NumericScaling {
  name: string;
  mean: number;
  std: number;
}

export interface CategoricalEncoding {
  name: string;
  encoding: 'onehot' | 'hashed';
  /** Training-seen string → column inside this feature's block. */
  index: Map<string, number>;
  /** Column inside the block for everything `index` does not list: unseen, missing, beyond maxCategories. */
  otherColumn: number;
  /** Columns in the block (otherColumn + 1). */
  width: number;
  /** First design-matrix column of the block. */
  offset: number;
}

/**
 * Learned preprocessing. Design-matrix layout: all numeric features first (in feature order, columns
 * 0..numeric.length-1), then one block per categorical feature (in feature order) holding exactly one 1.
 */
export interface Preprocessing {
  /** The features as fitted, with encoding defaults filled in. */
  features: FeatureSpec[];
  numeric: NumericScaling[];
  categorical: CategoricalEncoding[];
  /** Design-matrix columns. */
  width: number;
}

/** Learns means, standard deviations and category vocabularies from `table`. */
export function fitPreprocessing(table: Table, features: FeatureSpec[]): Preprocessing {
  checkFeatureSpecs(features);
  checkTableShape(table, 'preprocessing');
  const filled = features.map(withDefaults);
  const numeric = filled.filter((f) => f.kind === 'numeric').map((f) => fitNumeric(f.name, table));
  let offset = numeric.length;
  const categorical: CategoricalEncoding[] = [];
  for (const f of filled) {
    if (f.kind !== 'categorical') continue;
    const counts = countCategories(categoricalColumn(table, f.name, 'preprocessing'));
    const hashed = f.encoding === 'hashed';
    const buckets = f.buckets ?? DEFAULT_HASH_BUCKETS;
    const index = hashed ? hashedIndex(counts, buckets) : oneHotIndex(counts, f.maxCategories ?? DEFAULT_MAX_CATEGORIES);
    const otherColumn = hashed ? buckets : index.size;
    categorical.push({
      name: f.name,
      encoding: hashed ? 'hashed' : 'onehot',
      index,
      otherColumn,
      width: otherColumn + 1,
      offset,
    });
    offset += otherColumn + 1;
  }
  return { features: filled, numeric, categorical, width: offset };
}

function withDefaults(f: FeatureSpec): FeatureSpec {
  if (f.kind === 'numeric') return { name: f.name, kind: 'numeric' };
  if (f.encoding === 'hashed')
    return { name: f.name, kind: 'categorical', encoding: 'hashed', buckets: f.buckets ?? DEFAULT_HASH_BUCKETS };
  return { name: f.name, kind: 'categorical', encoding: 'onehot', maxCategories: f.maxCategories ?? DEFAULT_MAX_CATEGORIES };
}

/** Statistics over the float32 values the graph will see; a constant or all-missing column gets std 1. */
function fitNumeric(name: string, table: Table): NumericScaling {
  const values = numericColumn(table, name, 'preprocessing');
  let n = 0;
  let sum = 0;
  for (const v of values) {
    const x = Math.fround(v);
    if (Number.isNaN(x)) continue;
    if (!Number.isFinite(x)) throw new AppError('VALIDATION_FAILED', `feature '${name}' has infinite (or beyond float32) values`);
    n++;
    sum += x;
  }
  const mean = n > 0 ? sum / n : 0;
  let squares = 0;
  for (const v of values) {
    const x = Math.fround(v);
    if (!Number.isNaN(x)) squares += (x - mean) * (x - mean);
  }
  const std = Math.fround(n > 0 ? Math.sqrt(squares / n) : 1);
  return { name, mean: Math.fround(mean), std: Number.isFinite(std) && std > 0 ? std : 1 };
}

/** Human-readable names of the design-matrix columns, e.g. `age`, `city=Paris`, `city=<other>`, `user#7`. */
export function encodedColumnNames(prep: Preprocessing): string[] {
  const names = prep.numeric.map((n) => n.name);
  for (const c of prep.categorical) {
    const block = Array.from({ length: c.width }, (_, i) => (c.encoding === 'hashed' ? `${c.name}#${i}` : ''));
    if (c.encoding === 'onehot') for (const [s, i] of c.index) block[i] = `${c.name}=${s}`;
    block[c.otherColumn] = `${c.name}=<other>`;
    names.push(...block);
  }
  return names;
}
