import type { DuckDBConnection } from '@duckdb/node-api';
import { AppError } from '../../core/index.ts';
import type { AnalyticsEngine } from '../../storage/index.ts';
import { type CompiledService, type CompiledView, type FeatureCatalog, outputColumn } from '../feature-catalog.ts';
import { applyTransforms, type CompiledTransform } from '../transforms.ts';
import { aggregateAtEntityRowsSql } from './aggregate-sql.ts';
import { asofJoin, duckType, plainFeatureColumns, plainTimelineSql } from './point-in-time-sql.ts';
import { type DatasetPathResolver, sourceRelation } from './source-relation.ts';
import { ident, literal, tsLiteral } from './sql-text.ts';

export type EntityFrame =
  | { parquet: string }
  | { rows: Record<string, unknown>[] }
  /** No entity frame: every source row of the service's first view in [start, end]. */
  | { range: { start: number; end: number } };

export interface HistoricalRequest {
  catalog: FeatureCatalog;
  service: CompiledService;
  transforms: CompiledTransform[];
  entities: EntityFrame;
  /** Entity-frame column holding T (default `event_timestamp`). */
  timestampColumn?: string;
  /** Parquet file to write. */
  output: string;
  resolveDataset?: DatasetPathResolver;
}

export interface HistoricalResult {
  output: string;
  rows: number;
  columns: string[];
}

function viewsOf(req: HistoricalRequest): CompiledView[] {
  const names = [...new Set(req.service.refs.map((r) => r.view))];
  return names.map((n) => req.catalog.views.get(n) as CompiledView);
}

async function loadEntityFrame(conn: DuckDBConnection, req: HistoricalRequest, views: CompiledView[], ts: string): Promise<void> {
  const e = req.entities;
  // Pooled connections keep temp objects, and __frame is a view or a table depending on the input.
  // DuckDB refuses DROP VIEW on a table (and the reverse), so try both.
  for (const kind of ['VIEW', 'TABLE']) await conn.run(`DROP ${kind} IF EXISTS __frame`).catch(() => undefined);
  if ('range' in e) {
    const first = views[0] as CompiledView;
    const rel = await sourceRelation(first.source, req.resolveDataset);
    const keys = [...new Set(views.flatMap((v) => v.joinKeys.map((k) => k.name)))].map(ident);
    const tsField = ident(first.source.timestamp_field);
    await conn.run(`CREATE OR REPLACE TEMP VIEW __frame AS SELECT ${keys.join(', ')}, ${tsField}::TIMESTAMP AS ${ident(ts)} FROM ${rel}
      WHERE ${tsField} BETWEEN ${tsLiteral(e.range.start)} AND ${tsLiteral(e.range.end)} ORDER BY ${tsField}`);
  } else if ('parquet' in e) {
    // A view, not a copy: the frame is read once, straight into __entities.
    await conn.run(`CREATE OR REPLACE TEMP VIEW __frame AS SELECT * FROM read_parquet(${literal(e.parquet)})`);
  } else {
    if (e.rows.length === 0) throw new AppError('VALIDATION_FAILED', 'the entity frame has no rows');
    const cols = Object.keys(e.rows[0] ?? {});
    const projections = cols.map((c) => `j->>${literal(c)} AS ${ident(c)}`);
    await conn.run(
      `CREATE TEMP TABLE __frame AS SELECT ${projections.join(', ')} FROM (SELECT unnest(${literal(JSON.stringify(e.rows))}::JSON[]) AS j)`,
    );
  }
  const described = (await (await conn.runAndReadAll('DESCRIBE __frame')).getRowObjectsJS()) as { column_name: string }[];
  const have = new Set(described.map((d) => d.column_name));
  const missing = [ts, ...views.flatMap((v) => v.joinKeys.map((k) => k.name))].filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new AppError('VALIDATION_FAILED', `the entity frame lacks column(s) ${[...new Set(missing)].join(', ')}`, { missing });
  }
  // Join keys take their declared types and T becomes a TIMESTAMP; a value that does not fit is a 400.
  const casts = [
    `TRY_CAST(${ident(ts)} AS TIMESTAMP) AS ${ident(ts)}`,
    ...[...new Map(views.flatMap((v) => v.joinKeys.map((k) => [k.name, k] as const))).values()].map(
      (k) => `TRY_CAST(${ident(k.name)} AS ${duckType(k.type)}) AS ${ident(k.name)}`,
    ),
  ];
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE __entities AS SELECT * REPLACE (${casts.join(', ')}), row_number() OVER () AS __row FROM __frame`,
  );
  const bad = (
    await (await conn.runAndReadAll(`SELECT count(*) AS n FROM __entities WHERE ${ident(ts)} IS NULL`)).getRowObjectsJS()
  )[0];
  if (Number(bad?.n ?? 0) > 0)
    throw new AppError('VALIDATION_FAILED', `${bad?.n} entity rows have no valid timestamp in '${ts}'`);
}

/** Point-in-time correct features for every entity row, written to Parquet in the frame's row order. */
export async function getHistoricalFeatures(engine: AnalyticsEngine, req: HistoricalRequest): Promise<HistoricalResult> {
  const ts = req.timestampColumn ?? 'event_timestamp';
  const views = viewsOf(req);
  return engine.withConnection(async (conn) => {
    await loadEntityFrame(conn, req, views, ts);
    const e = '__e';
    const entityTs = `${e}.${ident(ts)}`;
    const joins: string[] = [];
    const selects: string[] = [`${e}.* EXCLUDE (__row)`];
    for (const [i, v] of views.entries()) {
      const alias = `v${i}`;
      const wanted = new Set(req.service.refs.filter((r) => r.view === v.name).map((r) => r.feature));
      const relation = await sourceRelation(v.source, req.resolveDataset);
      if (v.kind === 'plain') {
        await conn.run(`CREATE OR REPLACE TEMP TABLE ${alias}_tl AS ${plainTimelineSql(v, relation)}`);
        joins.push(asofJoin(v, e, alias, entityTs));
        const cols = plainFeatureColumns(v, alias, entityTs, (f) => outputColumn(v.name, f));
        selects.push(...cols.filter((_, j) => wanted.has(v.features[j]?.name ?? '')));
      } else {
        await conn.run(
          `CREATE OR REPLACE TEMP TABLE ${alias}_agg AS ${aggregateAtEntityRowsSql(v, relation, '__entities', ident(ts))}`,
        );
        joins.push(`LEFT JOIN ${alias}_agg ${alias} ON ${alias}.__row = ${e}.__row`);
        for (const f of v.features)
          if (wanted.has(f.name)) selects.push(`${alias}.${ident(f.name)} AS ${ident(outputColumn(v.name, f.name))}`);
      }
    }
    let query = `SELECT ${selects.join(', ')}, ${e}.__row FROM __entities ${e} ${joins.join(' ')}`;
    if (req.transforms.length > 0) query = await withTransforms(conn, req.transforms, query);
    try {
      await conn.run(`COPY (SELECT * EXCLUDE (__row) FROM (${query}) ORDER BY __row) TO ${literal(req.output)} (FORMAT parquet)`);
    } catch (err) {
      throw new AppError('BAD_REQUEST', `historical retrieval failed: ${(err as Error).message.split('\n')[0]}`);
    }
    const meta = (
      await (await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${literal(req.output)})`)).getRowObjectsJS()
    )[0];
    const described = (await (
      await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(req.output)})`)
    ).getRowObjectsJS()) as {
      column_name: string;
    }[];
    return { output: req.output, rows: Number(meta?.n ?? 0), columns: described.map((d) => d.column_name) };
  });
}

/** Computes transform outputs in JS (the same functions serving runs) and joins them back by row. */
async function withTransforms(conn: DuckDBConnection, transforms: CompiledTransform[], query: string): Promise<string> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE __joined AS ${query}`);
  const needed = [...new Set(transforms.flatMap((t) => t.inputColumns.map((c) => c.column)))];
  const reader = await conn.runAndReadAll(`SELECT __row, ${needed.map(ident).join(', ')} FROM __joined ORDER BY __row`);
  const cols = reader.getColumnsJS();
  const rows = cols[0]?.length ?? 0;
  const byName = new Map<string, unknown[]>(needed.map((n, i) => [n, (cols[i + 1] ?? []).map(jsValue)]));
  const outputs = applyTransforms(transforms, byName, rows);
  const outDefs = transforms.flatMap((t) => t.def.outputs);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE __transformed (__row BIGINT, ${outDefs.map((o) => `${ident(o.name)} ${duckType(o.type)}`).join(', ')})`,
  );
  const appender = await conn.createAppender('__transformed');
  const rowIds = cols[0] ?? [];
  for (let r = 0; r < rows; r++) {
    appender.appendBigInt(BigInt(rowIds[r] as bigint));
    for (const o of outDefs) appendValue(appender, o.type, outputs.get(o.name)?.[r]);
    appender.endRow();
  }
  appender.closeSync();
  return `SELECT j.*, ${outDefs.map((o) => `t.${ident(o.name)}`).join(', ')} FROM __joined j JOIN __transformed t USING (__row)`;
}

function jsValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  return v;
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

function appendValue(a: Appender, type: string, v: unknown): void {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) a.appendNull();
  else if (type === 'int64') a.appendBigInt(BigInt(Math.trunc(Number(v))));
  else if (type === 'float64') a.appendDouble(Number(v));
  else if (type === 'bool') a.appendBoolean(Boolean(v));
  else if (type === 'timestamp') a.appendVarchar(new Date(v as number | string | Date).toISOString());
  else a.appendVarchar(String(v));
}
