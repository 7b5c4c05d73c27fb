import type { AppError } from '../../core/index.ts';
import type { AnalyticsEngine } from './duckdb-engine.ts';
import { sqlString } from './duckdb-sql.ts';

export type SqlNode = Record<string, unknown>;
export const isSqlNode = (v: unknown): v is SqlNode => typeof v === 'object' && v !== null;

/** What one SELECT reads, from DuckDB's own parse tree: callers decide what is allowed. */
export interface SelectReads {
  /** Base tables as written, with their schema or catalog qualifier when there is one. */
  tables: { name: string; qualifier: string | null }[];
  /** Names of the query's own CTEs (they shadow tables of the same name). */
  ctes: Set<string>;
  /** Table functions, lowercased, with the parse node of their first argument. */
  functions: { name: string; firstArg: unknown }[];
  /** DESCRIBE / SUMMARIZE / SHOW inside the query. */
  show: boolean;
}

/**
 * Parses a query with DuckDB's json_serialize_sql without running it. It accepts only SELECT
 * (so writes, COPY, ATTACH, SET and PRAGMA fail to parse); `refuse` builds the caller's error for
 * a parse failure (`onlySelect`: the statement was not a SELECT) or more than one statement.
 */
export async function readSelect(
  engine: AnalyticsEngine,
  query: string,
  refuse: (problem: { onlySelect: boolean; message: string }) => AppError,
): Promise<SelectReads> {
  const [row] = await engine.all<{ j: string }>(`SELECT json_serialize_sql(${sqlString(query)}) AS j`);
  const parsed = JSON.parse(row?.j ?? '{}') as { error?: boolean; error_message?: string; statements?: unknown[] };
  if (parsed.error) {
    const message = parsed.error_message ?? 'cannot parse';
    throw refuse({ onlySelect: /Only SELECT/i.test(message), message: message.split('\n')[0] ?? message });
  }
  if (parsed.statements?.length !== 1) throw refuse({ onlySelect: false, message: 'give exactly one SELECT statement' });
  const reads: SelectReads = { tables: [], ctes: new Set(), functions: [], show: false };
  const stack: unknown[] = [parsed.statements[0]];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    if (!isSqlNode(v)) continue;
    if (isSqlNode(v.cte_map) && Array.isArray(v.cte_map.map)) {
      for (const entry of v.cte_map.map) if (isSqlNode(entry) && typeof entry.key === 'string') reads.ctes.add(entry.key);
    }
    if (v.type === 'BASE_TABLE') {
      const qualifier = String(v.schema_name || v.catalog_name || '') || null;
      reads.tables.push({ name: String(v.table_name), qualifier });
    } else if (v.type === 'TABLE_FUNCTION') {
      const fn = v.function as SqlNode | undefined;
      reads.functions.push({
        name: String(fn?.function_name ?? '').toLowerCase(),
        firstArg: Array.isArray(fn?.children) ? fn.children[0] : undefined,
      });
    } else if (v.type === 'SHOW_REF') {
      reads.show = true;
    }
    stack.push(...Object.values(v));
  }
  return reads;
}

/** Table functions that make rows without touching files or the catalog. */
export const rowGenerators: ReadonlySet<string> = new Set(['range', 'generate_series', 'unnest']);
