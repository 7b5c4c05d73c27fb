import { AppError } from '../core/index.ts';
import type { AnalyticsEngine } from '../storage/index.ts';
import { sqlString } from './sql-text.ts';

/** What a query source reads: names to resolve (datasets, versions, files) and file arguments of readers. */
export interface QueryReads {
  tables: string[];
  files: string[];
}

const readers = new Set(['read_parquet', 'parquet_scan', 'read_csv', 'read_csv_auto']);
// Table functions that produce rows without touching files or the catalog.
const generators = new Set(['range', 'generate_series', 'unnest']);

const refuse = (message: string) => new AppError('BAD_REQUEST', `query source refused: ${message}`);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null;

function constantStrings(arg: unknown): string[] | null {
  if (!isNode(arg)) return null;
  if (arg.class === 'CONSTANT') {
    const value = (arg.value as Node | undefined)?.value;
    return typeof value === 'string' ? [value] : null;
  }
  if (arg.class === 'FUNCTION' && arg.function_name === 'list_value' && Array.isArray(arg.children)) {
    const parts = arg.children.map(constantStrings);
    return parts.every((p) => p !== null) ? (parts as string[][]).flat() : null;
  }
  return null;
}

function visitTableFunction(node: Node, out: QueryReads): void {
  const fn = node.function as Node | undefined;
  const name = String(fn?.function_name ?? '').toLowerCase();
  if (generators.has(name)) return;
  if (!readers.has(name)) throw refuse(`table function ${name}() is not allowed; read files with read_parquet or read_csv`);
  const first = Array.isArray(fn?.children) ? fn.children[0] : undefined;
  const paths = constantStrings(first);
  if (!paths) throw refuse(`the first argument of ${name}() must be a string literal or a list of them`);
  out.files.push(...paths);
}

/**
 * Reads a query through DuckDB's own parser (json_serialize_sql) without running it: exactly one
 * SELECT, table functions limited to file readers with literal paths and row generators, and
 * every table it names reported so the caller can resolve and check it before anything runs.
 */
export async function inspectQuery(engine: AnalyticsEngine, query: string): Promise<QueryReads> {
  const [row] = await engine.all<{ j: string }>(`SELECT json_serialize_sql(${sqlString(query)}) AS j`);
  const parsed = JSON.parse(row?.j ?? '{}') as { error?: boolean; error_message?: string; statements?: unknown[] };
  if (parsed.error) {
    const message = parsed.error_message ?? 'cannot parse';
    throw refuse(
      /Only SELECT/i.test(message) ? 'only a SELECT statement can define a dataset' : (message.split('\n')[0] ?? message),
    );
  }
  if (parsed.statements?.length !== 1) throw refuse('give exactly one SELECT statement');
  const out: QueryReads = { tables: [], files: [] };
  const ctes = new Set<string>();
  const stack: unknown[] = [parsed.statements[0]];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    if (!isNode(v)) continue;
    if (isNode(v.cte_map) && Array.isArray(v.cte_map.map)) {
      for (const entry of v.cte_map.map) if (isNode(entry) && typeof entry.key === 'string') ctes.add(entry.key);
    }
    if (v.type === 'BASE_TABLE') {
      if (v.schema_name || v.catalog_name)
        throw refuse(`'${v.schema_name || v.catalog_name}.${String(v.table_name)}': schemas and catalogs are not readable`);
      out.tables.push(String(v.table_name));
    } else if (v.type === 'TABLE_FUNCTION') {
      visitTableFunction(v, out);
    } else if (v.type === 'SHOW_REF') {
      throw refuse('DESCRIBE and SUMMARIZE are not allowed in a dataset query');
    }
    stack.push(...Object.values(v));
  }
  // A CTE shadows a table of its name, unless the name looks like a file (then it is checked anyway).
  out.tables = [...new Set(out.tables)].filter((t) => !ctes.has(t) || /[./]/.test(t));
  out.files = [...new Set(out.files)];
  return out;
}
