import type { AnalyticsEngine } from '../storage/index.ts';
import { columnKind } from './contract/index.ts';
import type { ColumnKind, ColumnProfile, ColumnSchema, DatasetProfile, JsonScalar, QuantileName } from './dataset-types.ts';
import { quantileLevels } from './dataset-types.ts';
import { toJsonValue } from './json-values.ts';
import { sqlIdent } from './sql-text.ts';

/** Numeric columns with at most this many distinct values also get top values (codes, flags). */
const lowCardinality = 20;
const topK = 10;

const num = (v: unknown): number | null => {
  const j = toJsonValue(v);
  return typeof j === 'number' ? j : null;
};
const isoOf = (v: unknown): string | null => (typeof num(v) === 'number' ? new Date(num(v) as number).toISOString() : null);

function aggregatesOf(c: string, i: number, kind: ColumnKind): string[] {
  const out = [`count(${c}) AS n${i}`];
  if (kind === 'other') return out;
  out.push(`approx_count_distinct(${c}) AS d${i}`);
  if (kind === 'numeric') {
    const levels = Object.values(quantileLevels).join(', ');
    out.push(`min(${c}) AS mn${i}`, `max(${c}) AS mx${i}`, `avg(${c}::DOUBLE) AS av${i}`, `stddev_samp(${c}::DOUBLE) AS sd${i}`);
    out.push(`quantile_cont(${c}::DOUBLE, [${levels}]) AS q${i}`);
  } else if (kind === 'temporal') {
    out.push(`epoch_ms(min(${c})) AS mn${i}`, `epoch_ms(max(${c})) AS mx${i}`);
  }
  return out;
}

function columnOf(col: ColumnSchema, i: number, kind: ColumnKind, r: Record<string, unknown>, rows: number): ColumnProfile {
  const nonNull = num(r[`n${i}`]) ?? 0;
  const p: ColumnProfile = {
    name: col.name,
    type: col.type,
    kind,
    nullCount: rows - nonNull,
    nullRate: rows === 0 ? 0 : (rows - nonNull) / rows,
    distinct: kind === 'other' ? null : num(r[`d${i}`]),
  };
  if (kind === 'numeric') {
    const q = (toJsonValue(r[`q${i}`]) as (number | null)[] | null) ?? [];
    Object.assign(p, {
      // Exact integers past 2^53 come back as strings rather than rounded.
      min: toJsonValue(r[`mn${i}`]) as number | string | null,
      max: toJsonValue(r[`mx${i}`]) as number | string | null,
      mean: num(r[`av${i}`]),
      std: num(r[`sd${i}`]),
      quantiles: Object.fromEntries(Object.keys(quantileLevels).map((k, j) => [k, q[j] ?? null])) as Record<
        QuantileName,
        number | null
      >,
    });
  } else if (kind === 'temporal') {
    Object.assign(p, { min: isoOf(r[`mn${i}`]), max: isoOf(r[`mx${i}`]) });
  }
  return p;
}

async function topValues(engine: AnalyticsEngine, relation: string, col: ColumnSchema, kind: ColumnKind) {
  const c = sqlIdent(col.name);
  const value = kind === 'string' && col.type !== 'VARCHAR' ? `CAST(${c} AS VARCHAR)` : c;
  const rows = await engine.all(
    `SELECT ${value} AS value, count(*) AS count FROM ${relation} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${topK}`,
  );
  return rows.map((r) => ({ value: toJsonValue(r.value) as JsonScalar, count: Number(r.count) }));
}

/**
 * Profiles a relation in one aggregate pass (rows; per column nulls, distinct estimate, and for
 * numbers min/max/mean/std/quantiles, for times min/max), then one small GROUP BY per column that
 * gets top values. Quantiles are exact (quantile_cont), so a version's profile never varies.
 */
export async function profileDataset(
  engine: AnalyticsEngine,
  relation: string,
  columns: ColumnSchema[],
): Promise<DatasetProfile> {
  const kinds = columns.map((c) => columnKind(c.type));
  const select = ['count(*) AS rows', ...columns.flatMap((c, i) => aggregatesOf(sqlIdent(c.name), i, kinds[i] as ColumnKind))];
  const [row = {}] = await engine.all(`SELECT ${select.join(', ')} FROM ${relation}`);
  const rows = num(row.rows) ?? 0;
  const profiles = columns.map((c, i) => columnOf(c, i, kinds[i] as ColumnKind, row, rows));
  await Promise.all(
    profiles.map(async (p, i) => {
      const kind = kinds[i] as ColumnKind;
      const wanted =
        kind === 'string' || kind === 'boolean' || (kind === 'numeric' && (p.distinct ?? Infinity) <= lowCardinality);
      if (wanted && rows > 0) p.topValues = await topValues(engine, relation, columns[i] as ColumnSchema, kind);
    }),
  );
  return { rows, columns: profiles };
}
