import type { CompiledView } from '../feature-catalog.ts';
import { checkExpression, ident, intervalMs } from './sql-text.ts';

/**
 * SQL for Feast point-in-time semantics, built on DuckDB ASOF JOIN.
 *
 * A source row becomes usable at `avail = greatest(event_ts + lag, created_ts)`: only once it
 * would have been known and only once it was written, so late backfills never leak into the
 * past. For plain views the "timeline" of a view holds, per entity and availability instant, the
 * best row usable from then on: the one with the latest event time, ties broken by the latest
 * created time. An entity row at T then takes the last timeline entry with avail <= T — one ASOF
 * JOIN per view — and drops it when its event time is older than T - ttl.
 */

const keyList = (v: CompiledView, alias?: string) =>
  v.joinKeys.map((k) => (alias ? `${alias}.${ident(k.name)}` : ident(k.name))).join(', ');

function availExpr(v: CompiledView): string {
  const event = `${ident(v.source.timestamp_field)}::TIMESTAMP`;
  const known = v.def.available_at
    ? `greatest(${event}, (${checkExpression(v.def.available_at, `available_at of ${v.name}`)})::TIMESTAMP)`
    : event;
  const lagged = v.lagMs > 0 ? `(${known} + ${intervalMs(v.lagMs)})` : known;
  const created = v.source.created_timestamp_field;
  return created ? `greatest(${lagged}, ${ident(created)}::TIMESTAMP)` : lagged;
}

/** Struct ordering (e, c, values…) = latest event, then latest created, then a fixed tie-break. */
function bestStruct(v: CompiledView): string {
  const created = v.source.created_timestamp_field ? `${ident(v.source.created_timestamp_field)}::TIMESTAMP` : 'NULL::TIMESTAMP';
  const values = v.features.map(
    (f) => `${ident(f.name)} := (${checkExpression(f.expr, `feature ${v.name}:${f.name}`)})::${duckType(f.type)}`,
  );
  return `struct_pack(e := ${ident(v.source.timestamp_field)}::TIMESTAMP, c := ${created}, ${values.join(', ')})`;
}

export function duckType(type: string): string {
  return { int64: 'BIGINT', float64: 'DOUBLE', string: 'VARCHAR', bool: 'BOOLEAN', timestamp: 'TIMESTAMP' }[type] ?? 'VARCHAR';
}

/** SELECT producing the timeline of a plain view: (join keys…, avail, best). */
export function plainTimelineSql(v: CompiledView, relation: string, until?: string): string {
  const keys = keyList(v);
  const notNullKeys = v.joinKeys.map((k) => `${ident(k.name)} IS NOT NULL`).join(' AND ');
  const perInstant = `
    SELECT ${keys}, ${availExpr(v)} AS avail, max(${bestStruct(v)}) AS best
    FROM ${relation}
    WHERE ${ident(v.source.timestamp_field)} IS NOT NULL AND ${notNullKeys}
    GROUP BY ALL`;
  const bounded = until ? `SELECT * FROM (${perInstant}) WHERE avail <= ${until}` : perInstant;
  // When availability follows event time (no created time, at most a constant lag), each
  // instant's own best is the running best. Otherwise a row can become known after newer rows
  // were, so the best so far must be carried forward: a running max in availability order.
  if (!v.source.created_timestamp_field && !v.def.available_at) return bounded;
  return `
    SELECT ${keys}, avail,
      max(best) OVER (PARTITION BY ${keys} ORDER BY avail ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS best
    FROM (${bounded})`;
}

/** Expressions reading a joined timeline `t` for an entity row `e`, with TTL applied. */
export function plainFeatureColumns(v: CompiledView, t: string, entityTs: string, outputName: (f: string) => string): string[] {
  return v.features.map((f) => {
    const value = `${t}.best.${ident(f.name)}`;
    const fresh = v.ttlMs === null ? null : `${t}.best.e >= ${entityTs} - ${intervalMs(v.ttlMs)}`;
    return `${fresh ? `CASE WHEN ${fresh} THEN ${value} END` : value} AS ${ident(outputName(f.name))}`;
  });
}

export const asofJoin = (v: CompiledView, e: string, t: string, entityTs: string) =>
  `ASOF LEFT JOIN ${t}_tl ${t} ON ${v.joinKeys.map((k) => `${e}.${ident(k.name)} = ${t}.${ident(k.name)}`).join(' AND ')} AND ${entityTs} >= ${t}.avail`;

export { availExpr, keyList };
