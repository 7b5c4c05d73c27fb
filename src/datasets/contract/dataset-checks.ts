import { sqlIdent } from '../sql-text.ts';
import type { QualityRule } from './contract-types.ts';
import { type CompiledCheck, countWhere, iso, num, type RowRule } from './row-checks.ts';

const formatAge = (ms: number): string => {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)}d` : `${h.toFixed(1)}h`;
};

/** The newest value of a time column must be within `max_staleness` of `asOf`. */
export function freshnessCheck(field: string, maxStalenessMs: number, staleness: string): CompiledCheck {
  return {
    name: `${field}.freshness`,
    kind: 'freshness',
    field,
    threshold: staleness,
    aggregates: [`epoch_ms(max(${sqlIdent(field)}))`],
    violation: null,
    evaluate: (vals, { asOf }) => {
      if (vals[0] === null || vals[0] === undefined) {
        return { passed: false, observed: null, failingRows: null, message: `no ${field} values to measure freshness by` };
      }
      const latest = num(vals[0]);
      const age = asOf - latest;
      const passed = age <= maxStalenessMs;
      return {
        passed,
        observed: iso(latest),
        failingRows: null,
        message: `newest ${field} is ${formatAge(Math.max(0, age))} old at ${iso(asOf)}${passed ? '' : `, over ${staleness}`}`,
        details: { latest: iso(latest), asOf: iso(asOf), stalenessMs: age, maxStalenessMs },
      };
    },
  };
}

export function volumeChecks(volume: { minRows?: number; maxRows?: number }): CompiledCheck[] {
  const make = (key: 'min_rows' | 'max_rows', limit: number, ok: (rows: number) => boolean): CompiledCheck => ({
    name: `volume.${key}`,
    kind: 'volume',
    field: null,
    threshold: limit,
    aggregates: [],
    violation: null,
    evaluate: (_v, { rows }) => {
      const passed = ok(rows);
      return {
        passed,
        observed: rows,
        failingRows: null,
        message: `${rows} rows${passed ? '' : `, ${key === 'min_rows' ? 'fewer' : 'more'} than ${limit}`}`,
      };
    },
  });
  const out: CompiledCheck[] = [];
  if (volume.minRows !== undefined) out.push(make('min_rows', volume.minRows, (r) => r >= (volume.minRows as number)));
  if (volume.maxRows !== undefined) out.push(make('max_rows', volume.maxRows, (r) => r <= (volume.maxRows as number)));
  return out;
}

/**
 * `null_share` counts nulls; `invalid_share` counts non-null values that break any of the field's
 * min/max/allowed/pattern rules (which then are not checks of their own: the share decides).
 */
export function qualityCheck(q: QualityRule, valueRules: RowRule[]): CompiledCheck {
  const predicate =
    q.kind === 'null_share'
      ? `${sqlIdent(q.field)} IS NULL`
      : valueRules.map((r) => `coalesce(${r.violation}, false)`).join(' OR ');
  const { value, unit } = q.threshold;
  return {
    name: `${q.field}.${q.kind}`,
    kind: q.kind,
    field: q.field,
    threshold: value,
    unit,
    aggregates: [countWhere(predicate), ...valueRules.map((r) => countWhere(r.violation))],
    violation: predicate,
    evaluate: (vals, { rows }) => {
      const n = num(vals[0]);
      const observed = unit === 'rows' ? n : rows === 0 ? 0 : (100 * n) / rows;
      const passed = observed < value;
      const what = q.kind === 'null_share' ? 'null' : 'invalid';
      const shownObs = unit === 'rows' ? `${n} rows` : `${observed.toFixed(3)}% (${n} rows)`;
      return {
        passed,
        observed,
        failingRows: n,
        message: `${shownObs} ${what}, must be less than ${value}${unit === 'rows' ? ' rows' : '%'}`,
        ...(valueRules.length ? { details: Object.fromEntries(valueRules.map((r, i) => [r.check, num(vals[i + 1])])) } : {}),
      };
    },
  };
}
