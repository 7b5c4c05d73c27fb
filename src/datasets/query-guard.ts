import { AppError } from '../core/index.ts';
import { type AnalyticsEngine, isSqlNode, readSelect, rowGenerators, type SqlNode } from '../storage/index.ts';

/** What a query source reads: names to resolve (datasets, versions, files) and file arguments of readers. */
export interface QueryReads {
  tables: string[];
  files: string[];
}

const readers = new Set(['read_parquet', 'parquet_scan', 'read_csv', 'read_csv_auto']);

const refuse = (message: string) => new AppError('BAD_REQUEST', `query source refused: ${message}`);

type Node = SqlNode;
const isNode = isSqlNode;

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

function visitTableFunction(fn: { name: string; firstArg: unknown }, out: QueryReads): void {
  const { name } = fn;
  if (rowGenerators.has(name)) return;
  if (!readers.has(name)) throw refuse(`table function ${name}() is not allowed; read files with read_parquet or read_csv`);
  const paths = constantStrings(fn.firstArg);
  if (!paths) throw refuse(`the first argument of ${name}() must be a string literal or a list of them`);
  out.files.push(...paths);
}

/**
 * Reads a query through DuckDB's own parser (json_serialize_sql) without running it: exactly one
 * SELECT, table functions limited to file readers with literal paths and row generators, and
 * every table it names reported so the caller can resolve and check it before anything runs.
 */
export async function inspectQuery(engine: AnalyticsEngine, query: string): Promise<QueryReads> {
  const reads = await readSelect(engine, query, (p) =>
    refuse(p.onlySelect ? 'only a SELECT statement can define a dataset' : p.message),
  );
  if (reads.show) throw refuse('DESCRIBE and SUMMARIZE are not allowed in a dataset query');
  const out: QueryReads = { tables: [], files: [] };
  for (const t of reads.tables) {
    if (t.qualifier) throw refuse(`'${t.qualifier}.${t.name}': schemas and catalogs are not readable`);
    out.tables.push(t.name);
  }
  for (const f of reads.functions) visitTableFunction(f, out);
  // A CTE shadows a table of its name, unless the name looks like a file (then it is checked anyway).
  out.tables = [...new Set(out.tables)].filter((t) => !reads.ctes.has(t) || /[./]/.test(t));
  out.files = [...new Set(out.files)];
  return out;
}
