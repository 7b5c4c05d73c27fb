import type { ColumnSchema } from '../dataset-types.ts';
import { sqlIdent, sqlScalar, sqlString } from '../sql-text.ts';
import type { CheckKind, FieldRule, RowCheckKind } from './contract-types.ts';

export interface CheckOutcome {
  passed: boolean;
  observed: number | string | null;
  failingRows: number | null;
  message: string;
  details?: Record<string, unknown>;
}

/** A check as SQL: aggregate expressions for the one-pass query, and the predicate of its failing rows. */
export interface CompiledCheck {
  name: string;
  kind: CheckKind;
  field: string | null;
  threshold: unknown;
  unit?: 'rows' | 'percent';
  aggregates: string[];
  /** WHERE predicate over `__relation` selecting the rows that break the check (for samples), or null. */
  violation: string | null;
  evaluate(values: unknown[], ctx: { rows: number; asOf: number }): CheckOutcome;
}

/** A per-row rule of one field: its SQL predicate is true exactly when the record validator reports it. */
export interface RowRule {
  field: string;
  check: RowCheckKind;
  violation: string;
}

/** The relation name violations refer to; the runner binds it with a CTE. */
export const relationName = '__relation';

export const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v ?? 0));
export const iso = (ms: number): string => new Date(ms).toISOString();
export const countWhere = (predicate: string): string => `count(*) FILTER (WHERE ${predicate})`;
const isTemporal = (r: FieldRule) => r.type === 'timestamp' || r.type === 'date';
const shown = (r: FieldRule, v: number) => (isTemporal(r) ? iso(v) : v);

/** The expression compared with bounds and value lists: epoch ms for times, text for enums. */
export function valueExpr(col: ColumnSchema, rule: FieldRule): string {
  const c = sqlIdent(col.name);
  if (isTemporal(rule)) return `epoch_ms(${c})`;
  if (rule.type === 'string' && col.type !== 'VARCHAR') return `CAST(${c} AS VARCHAR)`;
  return c;
}

/** Nulls break only `required`: every other rule compares a value, and NULL compares to nothing. */
export function rowRulesOf(col: ColumnSchema, rule: FieldRule): RowRule[] {
  const v = valueExpr(col, rule);
  const field = col.name;
  const out: RowRule[] = [];
  if (rule.required) out.push({ field, check: 'required', violation: `${sqlIdent(field)} IS NULL` });
  if (rule.min !== undefined) out.push({ field, check: 'min', violation: `${v} < ${sqlScalar(rule.min)}` });
  if (rule.max !== undefined) out.push({ field, check: 'max', violation: `${v} > ${sqlScalar(rule.max)}` });
  if (rule.allowed) out.push({ field, check: 'allowed', violation: `${v} NOT IN (${rule.allowed.map(sqlScalar).join(', ')})` });
  if (rule.pattern !== undefined)
    out.push({ field, check: 'pattern', violation: `NOT regexp_matches(${v}, ${sqlString(rule.pattern)})` });
  return out;
}

function thresholdOf(rr: RowRule, rule: FieldRule): unknown {
  if (rr.check === 'required') return 0;
  if (rr.check === 'min' || rr.check === 'max') return shown(rule, rule[rr.check] as number);
  if (rr.check === 'pattern') return rule.pattern;
  const allowed = rule.allowed ?? [];
  return allowed.length <= 20 ? allowed : `${allowed.length} values`;
}

const verdicts: Record<RowCheckKind, (n: number, rule: FieldRule, extreme: unknown) => string> = {
  required: (n) => (n === 0 ? 'no nulls' : `${n} null values`),
  min: (n, r, x) => (n === 0 ? `min ${x ?? '(no values)'}` : `${n} rows below ${shown(r, r.min as number)} (min ${x})`),
  max: (n, r, x) => (n === 0 ? `max ${x ?? '(no values)'}` : `${n} rows above ${shown(r, r.max as number)} (max ${x})`),
  allowed: (n) => (n === 0 ? 'every value is allowed' : `${n} values not in the allowed list`),
  pattern: (n, r) => (n === 0 ? 'every value matches' : `${n} values do not match ${r.pattern}`),
};

/** A field rule as a dataset check: the failing-row count, plus the extreme value for min/max. */
export function rowCheck(rr: RowRule, col: ColumnSchema, rule: FieldRule): CompiledCheck {
  const bounded = rr.check === 'min' || rr.check === 'max';
  return {
    name: `${rr.field}.${rr.check}`,
    kind: rr.check,
    field: rr.field,
    threshold: thresholdOf(rr, rule),
    aggregates: [countWhere(rr.violation), ...(bounded ? [`${rr.check}(${valueExpr(col, rule)})`] : [])],
    violation: rr.violation,
    evaluate: (vals) => {
      const n = num(vals[0]);
      const extreme = bounded && vals[1] !== null && vals[1] !== undefined ? shown(rule, num(vals[1])) : null;
      return { passed: n === 0, observed: bounded ? extreme : n, failingRows: n, message: verdicts[rr.check](n, rule, extreme) };
    },
  };
}

export function uniqueCheck(col: ColumnSchema): CompiledCheck {
  const c = sqlIdent(col.name);
  return {
    name: `${col.name}.unique`,
    kind: 'unique',
    field: col.name,
    threshold: 0,
    aggregates: [`count(${c}) - count(DISTINCT ${c})`],
    violation: `${c} IN (SELECT ${c} FROM ${relationName} GROUP BY ${c} HAVING count(*) > 1)`,
    evaluate: (vals) => {
      const n = num(vals[0]);
      return { passed: n === 0, observed: n, failingRows: n, message: n === 0 ? 'all values distinct' : `${n} repeated values` };
    },
  };
}
