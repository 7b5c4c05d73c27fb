import type { CompiledAggregation, CompiledView } from '../feature-catalog.ts';
import { availExpr, keyList } from './point-in-time-sql.ts';
import { ident, intervalMs } from './sql-text.ts';

const fnSql: Record<CompiledAggregation['fn'], string> = {
  mean: 'avg',
  sum: 'sum',
  count: 'count',
  min: 'min',
  max: 'max',
  std: 'stddev_samp',
};

/** Source rows of an aggregate view as (join keys…, __t = availability time, aggregated columns…). */
function sourceRows(v: CompiledView, relation: string): string {
  const columns = [...new Set(v.aggregations.map((a) => a.column))].map((c) => `${ident(c)}::DOUBLE AS ${ident(c)}`);
  const notNullKeys = v.joinKeys.map((k) => `${ident(k.name)} IS NOT NULL`).join(' AND ');
  return `SELECT ${keyList(v)}, ${availExpr(v)} AS __t, ${columns.join(', ')} FROM ${relation}
    WHERE ${ident(v.source.timestamp_field)} IS NOT NULL AND ${notNullKeys}`;
}

/**
 * Exact windowed aggregates at each entity row's time T, over source rows known in (T - w, T].
 * Entity rows are put in the same ordered stream as source rows (their aggregated columns are
 * NULL, which every aggregate ignores), and a RANGE window per length computes all of them in
 * one sorted pass. The lower bound is exclusive: the frame reaches back w minus one microsecond.
 */
export function aggregateAtEntityRowsSql(v: CompiledView, relation: string, entityTable: string, entityTs: string): string {
  const keys = keyList(v);
  const windows = [...new Set(v.aggregations.map((a) => a.windowMs))];
  const windowName = (ms: number) => `w${windows.indexOf(ms)}`;
  const defs = windows.map(
    (ms) =>
      `${windowName(ms)} AS (PARTITION BY ${keys} ORDER BY __t RANGE BETWEEN ${intervalMs(ms - 0.001)} PRECEDING AND CURRENT ROW)`,
  );
  const aggs = v.aggregations.map(
    (a) => `${fnSql[a.fn]}(${ident(a.column)}) OVER ${windowName(a.windowMs)} AS ${ident(a.output)}`,
  );
  return `
    SELECT __row, ${aggs.join(', ')}
    FROM (
      ${sourceRows(v, relation)}
      UNION ALL BY NAME
      SELECT ${v.joinKeys.map((k) => ident(k.name)).join(', ')}, ${entityTs} AS __t, __row FROM ${entityTable}
    )
    WINDOW ${defs.join(', ')}
    QUALIFY __row IS NOT NULL`;
}

/**
 * The same aggregates for every entity known by `asOf`, as of that instant (materialization).
 * Entities whose windows are empty still get a row (count 0, others NULL), as offline retrieval
 * would give them.
 */
export function aggregateAsOfSql(v: CompiledView, relation: string, asOf: string): string {
  const aggs = v.aggregations.map(
    (a) => `${fnSql[a.fn]}(${ident(a.column)}) FILTER (WHERE __t > ${asOf} - ${intervalMs(a.windowMs)}) AS ${ident(a.output)}`,
  );
  return `
    SELECT ${keyList(v)}, ${aggs.join(', ')}
    FROM (${sourceRows(v, relation)})
    WHERE __t <= ${asOf}
    GROUP BY ALL`;
}
