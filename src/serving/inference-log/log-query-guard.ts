import { AppError } from '../../core/index.ts';
import { type AnalyticsEngine, readSelect, rowGenerators } from '../../storage/index.ts';

const refuse = (message: string) => new AppError('BAD_REQUEST', `log query refused: ${message}`);

/**
 * Reads a query through DuckDB's own parser without running it (json_serialize_sql, which only
 * accepts SELECT, so writes, COPY, ATTACH, SET and PRAGMA are refused there): exactly one
 * statement, reading only `inference_log` (and its own CTEs), no file readers or other tables.
 * The engine is sandboxed to the log folder as well; this check gives the clear message.
 */
export async function checkLogQuery(engine: AnalyticsEngine, query: string, table: string): Promise<void> {
  const reads = await readSelect(engine, query, (p) =>
    refuse(p.onlySelect ? 'only SELECT (or WITH … SELECT) queries are allowed' : p.message),
  );
  if (reads.show) throw refuse('DESCRIBE and SUMMARIZE are not allowed; query the view');
  const ctes = new Set([...reads.ctes].map((c) => c.toLowerCase()));
  for (const t of reads.tables) {
    if (t.qualifier) throw refuse(`'${t.qualifier}.${t.name}' is not readable`);
    const name = t.name.toLowerCase();
    if (name !== table && !ctes.has(name)) throw refuse(`'${name}' is not readable; query the ${table} view`);
  }
  for (const f of reads.functions) {
    if (!rowGenerators.has(f.name)) throw refuse(`table function ${f.name}() is not allowed; query the ${table} view`);
  }
}
