import type { AnalyticsEngine } from '../../storage/index.ts';
import { entityKey, type OnlineStore } from '../../storage/index.ts';
import type { CompiledView } from '../feature-catalog.ts';
import { aggregateAsOfSql } from './aggregate-sql.ts';
import { plainTimelineSql } from './point-in-time-sql.ts';
import { type DatasetPathResolver, sourceRelation } from './source-relation.ts';
import { ident, tsLiteral } from './sql-text.ts';

export interface MaterializeProgress {
  view: string;
  written: number;
  total: number;
}

const batchRows = 20_000;

function toOnline(v: unknown): number | string | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/**
 * Writes a view's values as of `end` into the online store, in columnar batches straight from
 * DuckDB. Plain views write, per entity, the best row that became known in (start, end]; the
 * store keeps the latest event time, so reruns and restarts converge to the same state.
 * Aggregate views write every entity's window values as of `end`, stamped `end`.
 */
export async function materializeView(
  engine: AnalyticsEngine,
  store: OnlineStore,
  view: CompiledView,
  range: { start: number | null; end: number },
  onProgress: (p: MaterializeProgress) => void = () => undefined,
  resolveDataset?: DatasetPathResolver,
): Promise<number> {
  const relation = await sourceRelation(view.source, resolveDataset);
  const keys = view.joinKeys.map((k) => ident(k.name));
  const end = tsLiteral(range.end);
  let select: string;
  if (view.kind === 'plain') {
    const since = range.start === null ? '' : `WHERE avail > ${tsLiteral(range.start)}`;
    const latest = `SELECT ${keys.join(', ')}, arg_max(best, avail) AS best FROM (${plainTimelineSql(view, relation, end)}) ${since} GROUP BY ALL`;
    select = `SELECT ${keys.join(', ')}, epoch_ms(best.e) AS __event, ${view.features.map((f) => `best.${ident(f.name)} AS ${ident(f.name)}`).join(', ')} FROM (${latest})`;
  } else {
    select = `SELECT *, ${range.end}::BIGINT AS __event FROM (${aggregateAsOfSql(view, relation, end)})`;
  }
  return engine.withConnection(async (conn) => {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE __mat AS SELECT row_number() OVER (ORDER BY ${keys.join(', ')}) AS __rn, * FROM (${select})`,
    );
    const total = Number((await (await conn.runAndReadAll('SELECT count(*) AS n FROM __mat')).getRowObjectsJS())[0]?.n ?? 0);
    const featureNames = view.features.map((f) => f.name);
    let written = 0;
    onProgress({ view: view.name, written, total });
    for (let from = 1; from <= total; from += batchRows) {
      const reader = await conn.runAndReadAll(
        `SELECT ${[...keys, '__event', ...featureNames.map(ident)].join(', ')} FROM __mat WHERE __rn BETWEEN ${from} AND ${from + batchRows - 1} ORDER BY __rn`,
      );
      const cols = reader.getColumnsJS();
      const n = cols[0]?.length ?? 0;
      const keyCols = cols.slice(0, keys.length);
      const entityKeys = new Array<string>(n);
      for (let i = 0; i < n; i++) entityKeys[i] = entityKey(keyCols.map((c) => toOnline(c[i]) as string | number | boolean));
      const eventCol = cols[keys.length] ?? [];
      const eventTimes = new Float64Array(n);
      for (let i = 0; i < n; i++) eventTimes[i] = Number(eventCol[i]);
      const columns = cols.slice(keys.length + 1).map((c) => c.map(toOnline));
      await store.write({ view: view.name, features: featureNames, entityKeys, eventTimes, columns });
      written += n;
      onProgress({ view: view.name, written, total });
    }
    return written;
  });
}
