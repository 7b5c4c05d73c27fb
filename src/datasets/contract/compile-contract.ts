import { AppError } from '../../core/index.ts';
import type { ColumnSchema } from '../dataset-types.ts';
import { columnMatches } from './column-types.ts';
import type { CheckResult, Contract } from './contract-types.ts';
import { freshnessCheck, qualityCheck, volumeChecks } from './dataset-checks.ts';
import { type CompiledCheck, type RowRule, rowCheck, rowRulesOf, uniqueCheck } from './row-checks.ts';

export interface CompiledContract {
  /** Type checks, decided by the schema alone. */
  schemaResults: CheckResult[];
  /** Everything else, measured by one aggregate query. */
  checks: CompiledCheck[];
  /** The row rules of every well-typed field, shared with the record validator. */
  rowRules: RowRule[];
}

function missingColumn(contract: Contract, field: string, where: string, columns: ColumnSchema[]): AppError {
  const names = columns.map((c) => c.name);
  return new AppError(
    'INVALID_CONTRACT',
    `contract '${contract.name}' ${where} '${field}', which is not a column of the dataset (columns: ${names.slice(0, 50).join(', ')})`,
    { field, columns: names },
  );
}

function typeResult(field: string, expected: string, col: ColumnSchema, passed: boolean): CheckResult {
  return {
    name: `${field}.type`,
    kind: 'type',
    field,
    passed,
    observed: col.type,
    threshold: expected,
    failingRows: null,
    message: passed
      ? `${col.type} holds ${expected} values`
      : `column is ${col.type}, not ${expected}; its other checks were not run`,
    samples: [],
  };
}

/**
 * Compiles a contract against a dataset's columns. A field the data lacks is an INVALID_CONTRACT
 * (the contract cannot be checked); a column of the wrong type is a failed `type` check.
 */
export function compileContract(contract: Contract, columns: ColumnSchema[]): CompiledContract {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const schemaResults: CheckResult[] = [];
  const checks: CompiledCheck[] = [];
  const rowRules: RowRule[] = [];
  const tolerated = new Set(contract.quality.filter((q) => q.kind === 'invalid_share').map((q) => q.field));
  const valueRules = new Map<string, RowRule[]>();
  for (const [field, rule] of Object.entries(contract.fields)) {
    const col = byName.get(field);
    if (!col) throw missingColumn(contract, field, 'declares field', columns);
    const ok = columnMatches(rule.type, col.type);
    schemaResults.push(typeResult(field, rule.type, col, ok));
    if (!ok) continue;
    const rules = rowRulesOf(col, rule);
    rowRules.push(...rules);
    valueRules.set(
      field,
      rules.filter((r) => r.check !== 'required'),
    );
    for (const rr of rules) if (rr.check === 'required' || !tolerated.has(field)) checks.push(rowCheck(rr, col, rule));
    if (rule.unique) checks.push(uniqueCheck(col));
  }
  if (contract.freshness) {
    const { field, maxStalenessMs, maxStaleness } = contract.freshness;
    const col = byName.get(field);
    if (!col) throw missingColumn(contract, field, 'checks freshness of', columns);
    const isTime = columnMatches('timestamp', col.type) || columnMatches('date', col.type);
    if (!isTime) throw new AppError('INVALID_CONTRACT', `freshness needs a timestamp or date column; '${field}' is ${col.type}`);
    if (!contract.fields[field] || valueRules.has(field)) checks.push(freshnessCheck(field, maxStalenessMs, maxStaleness));
  }
  if (contract.volume) checks.push(...volumeChecks(contract.volume));
  for (const q of contract.quality) {
    if (!byName.has(q.field)) throw missingColumn(contract, q.field, `checks ${q.kind} of`, columns);
    // A mistyped field already failed its type check; its share cannot be measured.
    if (contract.fields[q.field] && !valueRules.has(q.field)) continue;
    checks.push(qualityCheck(q, q.kind === 'invalid_share' ? (valueRules.get(q.field) ?? []) : []));
  }
  return { schemaResults, checks, rowRules };
}
