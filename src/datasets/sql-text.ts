/** SQL text helpers for DuckDB. Every name and value that reaches SQL passes through one of these. */
import { sqlIdent, sqlString } from '../storage/index.ts';

export { sqlIdent, sqlString };

export function sqlScalar(v: string | number | boolean): string {
  if (typeof v === 'string') return sqlString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new TypeError(`not a finite number: ${v}`);
  // Integers past 2^53 print exactly in JS only as integers; keep them out of exponent notation.
  return Number.isInteger(v) && Math.abs(v) < 1e21 ? v.toFixed(0) : String(v);
}

export const readParquet = (path: string): string => `read_parquet(${sqlString(path)})`;
