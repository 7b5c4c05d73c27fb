import { AppError } from '../../core/index.ts';
import type { FeatureSpec, Table } from '../training-types.ts';

const invalid = (message: string): AppError => new AppError('VALIDATION_FAILED', message);

/** Strings: null and '' both mean missing, because ONNX string inputs carry missing as ''. */
export const isMissingCategory = (value: string | null | undefined): boolean =>
  value === null || value === undefined || value === '';

export function checkTableShape(table: Table, what: string): void {
  if (!Number.isInteger(table.rows) || table.rows < 0) throw invalid(`${what}: rows must be a non-negative integer`);
  if (table.rows === 0) throw invalid(`${what}: the table is empty (0 rows)`);
}

/** The numeric column `name`, checked for presence, type and length. */
export function numericColumn(table: Table, name: string, what: string): Float64Array {
  const column = table.columns[name];
  if (column === undefined) throw invalid(`${what}: unknown column '${name}' (not in the table)`);
  if (!(column instanceof Float64Array)) throw invalid(`${what}: column '${name}' must be numeric (Float64Array)`);
  if (column.length !== table.rows) {
    throw invalid(`${what}: column '${name}' has ${column.length} values but the table has ${table.rows} rows`);
  }
  return column;
}

/** The categorical column `name`, checked for presence, type and length. */
export function categoricalColumn(table: Table, name: string, what: string): (string | null)[] {
  const column = table.columns[name];
  if (column === undefined) throw invalid(`${what}: unknown column '${name}' (not in the table)`);
  if (column instanceof Float64Array) throw invalid(`${what}: column '${name}' must be categorical (strings), got numbers`);
  if (column.length !== table.rows) {
    throw invalid(`${what}: column '${name}' has ${column.length} values but the table has ${table.rows} rows`);
  }
  return column;
}

export function checkFeatureSpecs(features: FeatureSpec[]): void {
  if (features.length === 0) throw invalid('at least one feature is required');
  const seen = new Set<string>();
  for (const f of features) {
    if (typeof f.name !== 'string' || f.name === '') throw invalid('feature names must be non-empty strings');
    if (seen.has(f.name)) throw invalid(`feature '${f.name}' is listed twice`);
    seen.add(f.name);
    if (f.kind !== 'numeric' && f.kind !== 'categorical') throw invalid(`feature '${f.name}': unknown kind '${String(f.kind)}'`);
    if (f.kind === 'numeric') continue;
    if (f.encoding !== undefined && f.encoding !== 'onehot' && f.encoding !== 'hashed') {
      throw invalid(`feature '${f.name}': unknown encoding '${String(f.encoding)}'`);
    }
    for (const key of ['buckets', 'maxCategories'] as const) {
      const v = f[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1_000_000)) {
        throw invalid(`feature '${f.name}': ${key} must be an integer in [1, 1000000], got ${v}`);
      }
    }
  }
}
