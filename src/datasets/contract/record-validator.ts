import type { Contract, FieldRule, FieldType, RecordError } from './contract-types.ts';

export type RecordValidation = { ok: boolean; errors: RecordError[] };
export type RecordValidator = (record: Record<string, unknown>) => RecordValidation;

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** A record value as the number DuckDB would compare (epoch ms for times), or null when mistyped. */
function comparable(type: FieldType, v: unknown): number | string | boolean | null {
  switch (type) {
    case 'int':
      if (typeof v === 'bigint') return Number(v);
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
    case 'float':
      if (typeof v === 'bigint') return Number(v);
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    case 'string':
      return typeof v === 'string' ? v : null;
    case 'bool':
      return typeof v === 'boolean' ? v : null;
    case 'timestamp': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
      return Number.isFinite(ms) ? ms : null;
    }
    case 'date': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'string' && datePattern.test(v) ? Date.parse(v) : Number.NaN;
      return Number.isFinite(ms) ? ms : null;
    }
  }
}

type FieldCheck = (v: unknown, errors: RecordError[]) => void;

function fieldCheck(field: string, rule: FieldRule): FieldCheck {
  const allowed = rule.allowed ? new Set<unknown>(rule.allowed) : null;
  const regex = rule.pattern !== undefined ? new RegExp(rule.pattern) : null;
  const shown = (n: number) => (rule.type === 'timestamp' || rule.type === 'date' ? new Date(n).toISOString() : String(n));
  return (v, errors) => {
    if (v === null || v === undefined) {
      if (rule.required) errors.push({ field, check: 'required', message: `${field} is required` });
      return;
    }
    const c = comparable(rule.type, v);
    if (c === null) {
      errors.push({ field, check: 'type', message: `${field} must be a ${rule.type}` });
      return;
    }
    if (rule.min !== undefined && (c as number) < rule.min)
      errors.push({ field, check: 'min', message: `${field} is below ${shown(rule.min)}` });
    if (rule.max !== undefined && (c as number) > rule.max)
      errors.push({ field, check: 'max', message: `${field} is above ${shown(rule.max)}` });
    if (allowed && !allowed.has(c)) errors.push({ field, check: 'allowed', message: `${field} is not an allowed value` });
    if (regex && !regex.test(c as string))
      errors.push({ field, check: 'pattern', message: `${field} does not match ${rule.pattern}` });
  };
}

/**
 * The same contract as a validator for one record (serving): type, required, min/max, allowed and
 * pattern, with the semantics of the DuckDB checks. Dataset-level checks (unique, freshness, volume,
 * shares) have no meaning for a single record and are not applied; fields the contract does not
 * name are ignored.
 */
export function compileRecordValidator(contract: Contract): RecordValidator {
  const checks = Object.entries(contract.fields).map(([field, rule]) => [field, fieldCheck(field, rule)] as const);
  return (record) => {
    const errors: RecordError[] = [];
    for (const [field, check] of checks) check(Object.hasOwn(record, field) ? record[field] : undefined, errors);
    return { ok: errors.length === 0, errors };
  };
}
