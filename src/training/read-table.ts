import { AppError } from '../core/index.ts';
import type { AnalyticsEngine } from '../storage/index.ts';
import { sqlIdent, sqlString } from '../storage/index.ts';
import type { Column, FeatureSpec, Table } from './training-types.ts';

export interface ReadTableRequest {
  /** A Parquet file. */
  path: string;
  features: FeatureSpec[];
  /** A SQL expression over the file's columns (e.g. `delay > 15`), read as a number. */
  label?: string;
  /** Extra columns kept as they are (segments, ids). */
  extra?: { name: string; expr?: string; kind: 'numeric' | 'categorical' }[];
  /** SQL filter over the file's columns. */
  where?: string;
}

export const labelColumn = '__label';

/**
 * Reads the columns a trainer or an evaluation needs from Parquet into typed arrays: numbers
 * as Float64Array (NaN = null), categories as strings. DuckDB does the casting.
 */
export async function readTable(engine: AnalyticsEngine, req: ReadTableRequest): Promise<Table> {
  const selects: string[] = [];
  const kinds = new Map<string, 'numeric' | 'categorical'>();
  const add = (name: string, expr: string, kind: 'numeric' | 'categorical') => {
    selects.push(`${kind === 'numeric' ? `TRY_CAST(${expr} AS DOUBLE)` : `CAST(${expr} AS VARCHAR)`} AS ${sqlIdent(name)}`);
    kinds.set(name, kind);
  };
  for (const f of req.features) add(f.name, sqlIdent(f.name), f.kind);
  if (req.label !== undefined) add(labelColumn, `(${req.label})`, 'numeric');
  for (const x of req.extra ?? []) if (!kinds.has(x.name)) add(x.name, x.expr ? `(${x.expr})` : sqlIdent(x.name), x.kind);
  const sql = `SELECT ${selects.join(', ')} FROM read_parquet(${sqlString(req.path)})${req.where ? ` WHERE ${req.where}` : ''}`;
  let result: { names: string[]; columns: unknown[][] };
  try {
    result = await engine.columns(sql);
  } catch (e) {
    throw new AppError('VALIDATION_FAILED', `cannot read training data: ${(e as Error).message.split('\n')[0]}`);
  }
  const columns: Record<string, Column> = {};
  let rows = 0;
  result.names.forEach((name, i) => {
    const values = result.columns[i] ?? [];
    rows = values.length;
    if (kinds.get(name) === 'numeric') {
      const out = new Float64Array(values.length);
      for (let j = 0; j < values.length; j++) {
        const v = values[j];
        out[j] = v === null || v === undefined ? Number.NaN : Number(v);
      }
      columns[name] = out;
    } else {
      columns[name] = values.map((v) => (v === null || v === undefined ? null : String(v)));
    }
  });
  return { rows, columns };
}
