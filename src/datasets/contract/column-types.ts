import type { ColumnKind } from '../dataset-types.ts';
import type { FieldType } from './contract-types.ts';

const intType = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;
const floatType = /^(FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;
const stringType = /^(VARCHAR|ENUM\(.*\))$/s;
const timestampType = /^TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?$/;

/** Whether a DuckDB column type holds values of a contract field type (ints count as floats). */
export function columnMatches(fieldType: FieldType, duckType: string): boolean {
  switch (fieldType) {
    case 'int':
      return intType.test(duckType);
    case 'float':
      return intType.test(duckType) || floatType.test(duckType);
    case 'string':
      return stringType.test(duckType);
    case 'bool':
      return duckType === 'BOOLEAN';
    case 'timestamp':
      return timestampType.test(duckType);
    case 'date':
      return duckType === 'DATE';
  }
}

/** How the profile treats a DuckDB type. */
export function columnKind(duckType: string): ColumnKind {
  if (intType.test(duckType) || floatType.test(duckType)) return 'numeric';
  if (stringType.test(duckType)) return 'string';
  if (duckType === 'BOOLEAN') return 'boolean';
  if (timestampType.test(duckType) || duckType === 'DATE') return 'temporal';
  return 'other';
}
