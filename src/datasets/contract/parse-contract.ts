import { parseDocument } from 'yaml';
import { AppError } from '../../core/index.ts';
import { contractSchema, type RawContract, type RawField } from './contract-schema.ts';
import type { Contract, FieldRule, QualityRule, Threshold } from './contract-types.ts';

export interface ContractIssue {
  path: string;
  message: string;
}

const invalid = (issues: ContractIssue[]): AppError =>
  new AppError(
    'INVALID_CONTRACT',
    `invalid contract: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
    {
      issues,
    },
  );

const durationUnits: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `12h`, `7d`, `2w` → ms; null when malformed. */
export function parseStaleness(v: string | number): number | null {
  if (typeof v === 'number') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/.exec(v);
  const ms = m ? Number(m[1]) * (durationUnits[m[2] as string] as number) : 0;
  return ms > 0 ? Math.round(ms) : null;
}

/** `1%`, `0.5 %`, `10 rows`, `10` → a threshold; null when malformed. */
export function parseThreshold(v: string | number): Threshold | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? { value: v, unit: 'rows' } : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%|rows?)?\s*$/.exec(v);
  if (!m) return null;
  const value = Number(m[1]);
  const unit = m[2] === '%' ? 'percent' : 'rows';
  if (!(value > 0) || (unit === 'percent' && value > 100)) return null;
  return { value, unit };
}

const toMs = (v: string | number): number | null => {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
};

function checkField(name: string, raw: RawField, issues: ContractIssue[]): FieldRule {
  const at = (key: string) => `fields.${name}.${key}`;
  const { type } = raw;
  if (raw.required === true && raw.nullable === true)
    issues.push({ path: at('nullable'), message: 'a required field cannot be nullable' });
  const rule: FieldRule = { type, required: raw.required === true || raw.nullable === false, unique: raw.unique === true };
  const numeric = type === 'int' || type === 'float';
  const temporal = type === 'timestamp' || type === 'date';
  for (const key of ['min', 'max'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (numeric && typeof v === 'number' && Number.isFinite(v)) rule[key] = v;
    else if (temporal && toMs(v) !== null) rule[key] = toMs(v) as number;
    else if (numeric) issues.push({ path: at(key), message: `must be a number for a ${type} field` });
    else if (temporal) issues.push({ path: at(key), message: `must be an ISO-8601 time or epoch ms for a ${type} field` });
    else issues.push({ path: at(key), message: `min and max apply to int, float, timestamp and date fields, not ${type}` });
  }
  if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
    issues.push({ path: at('min'), message: 'min is greater than max' });
  }
  if (raw.allowed) {
    const ok = (x: unknown) =>
      type === 'string'
        ? typeof x === 'string'
        : type === 'bool'
          ? typeof x === 'boolean'
          : type === 'int'
            ? Number.isSafeInteger(x)
            : type === 'float'
              ? Number.isFinite(x)
              : false;
    const bad = raw.allowed.findIndex((x) => !ok(x));
    if (temporal)
      issues.push({ path: at('allowed'), message: `allowed values apply to string, int, float and bool fields, not ${type}` });
    else if (bad >= 0)
      issues.push({ path: `${at('allowed')}.${bad}`, message: `${JSON.stringify(raw.allowed[bad])} is not a ${type}` });
    else rule.allowed = [...new Set(raw.allowed)];
  }
  if (raw.pattern !== undefined) {
    if (type !== 'string') issues.push({ path: at('pattern'), message: `pattern applies to string fields, not ${type}` });
    else {
      try {
        new RegExp(raw.pattern);
        rule.pattern = raw.pattern;
      } catch (e) {
        issues.push({ path: at('pattern'), message: `not a valid regular expression: ${(e as Error).message}` });
      }
    }
  }
  return rule;
}

function checkContract(raw: RawContract): Contract {
  const issues: ContractIssue[] = [];
  const fields: Record<string, FieldRule> = {};
  for (const [name, f] of Object.entries(raw.fields)) fields[name] = checkField(name, f, issues);
  const contract: Contract = { name: raw.name, policy: raw.policy, fields, quality: [] };
  if (raw.description !== undefined) contract.description = raw.description;
  if (raw.freshness) {
    const { field, max_staleness, as_of } = raw.freshness;
    const maxStalenessMs = parseStaleness(max_staleness);
    if (maxStalenessMs === null)
      issues.push({ path: 'freshness.max_staleness', message: 'expected a duration like 30m, 12h, 7d or 2w' });
    const declared = fields[field]?.type;
    if (declared && declared !== 'timestamp' && declared !== 'date') {
      issues.push({ path: 'freshness.field', message: `'${field}' is a ${declared} field; freshness needs a timestamp or date` });
    }
    const asOf = as_of === undefined ? undefined : toMs(as_of);
    if (asOf === null) issues.push({ path: 'freshness.as_of', message: 'expected an ISO-8601 time or epoch ms' });
    contract.freshness = {
      field,
      maxStalenessMs: maxStalenessMs ?? 0,
      maxStaleness: String(max_staleness).trim(),
      ...(asOf != null ? { asOf } : {}),
    };
  }
  if (raw.volume) {
    const { min_rows, max_rows } = raw.volume;
    if (min_rows === undefined && max_rows === undefined)
      issues.push({ path: 'volume', message: 'give min_rows, max_rows or both' });
    if (min_rows !== undefined && max_rows !== undefined && min_rows > max_rows) {
      issues.push({ path: 'volume.min_rows', message: 'min_rows is greater than max_rows' });
    }
    contract.volume = {
      ...(min_rows !== undefined ? { minRows: min_rows } : {}),
      ...(max_rows !== undefined ? { maxRows: max_rows } : {}),
    };
  }
  raw.quality.forEach((q, i) => {
    const kind = 'null_share' in q ? 'null_share' : 'invalid_share';
    const body = 'null_share' in q ? q.null_share : q.invalid_share;
    const at = `quality.${i}.${kind}`;
    const threshold = parseThreshold(body.mustBeLessThan);
    if (!threshold)
      issues.push({
        path: `${at}.mustBeLessThan`,
        message: "expected a positive number of rows ('10 rows') or a percentage ('1%')",
      });
    const rule = fields[body.field];
    if (kind === 'null_share' && rule?.required) {
      issues.push({
        path: `${at}.field`,
        message: `'${body.field}' is required, which already allows no nulls; drop one of the two`,
      });
    }
    if (kind === 'invalid_share') {
      const hasRules = rule && (rule.min !== undefined || rule.max !== undefined || rule.allowed || rule.pattern);
      if (!hasRules)
        issues.push({
          path: `${at}.field`,
          message: `'${body.field}' declares no min, max, allowed or pattern to be invalid against`,
        });
    }
    if (contract.quality.some((o) => o.kind === kind && o.field === body.field)) {
      issues.push({ path: at, message: `a second ${kind} for '${body.field}'` });
    }
    contract.quality.push({ kind, field: body.field, threshold: threshold ?? { value: 1, unit: 'rows' } } satisfies QualityRule);
  });
  if (issues.length > 0) throw invalid(issues);
  return contract;
}

/** YAML text → a checked contract. Every problem is an INVALID_CONTRACT naming the key to fix. */
export function parseContract(yamlText: string): Contract {
  const doc = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(doc.errors.slice(0, 5).map((e) => ({ path: '', message: `malformed YAML: ${e.message.split('\n')[0]}` })));
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid([{ path: '', message: 'a contract is a YAML mapping with name, fields and checks' }]);
  }
  const parsed = contractSchema.safeParse(data);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  }
  return checkContract(parsed.data);
}
