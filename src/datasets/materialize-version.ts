import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../core/index.ts';
import { type AnalyticsEngine, duckError } from '../storage/index.ts';
import type { ColumnSchema } from './dataset-types.ts';
import type { DataFormat } from './path-policy.ts';
import { readParquet, sqlIdent, sqlString } from './sql-text.ts';

export interface DataFile {
  path: string;
  format: DataFormat;
  /** For files whose name does not say so (uploads). */
  gzip?: boolean;
}

/** A source whose every file has been checked: plain files, or a query with dataset views bound. */
export type CheckedSource =
  | { kind: 'files'; files: DataFile[] }
  | { kind: 'query'; query: string; views: { name: string; path: string }[] };

export interface Materialized {
  /** The canonical Parquet file, in the scratch folder until it is stored. */
  path: string;
  digest: string;
  sizeBytes: number;
  rows: number;
  columns: ColumnSchema[];
}

const list = (files: DataFile[]) => `[${files.map((f) => sqlString(f.path)).join(', ')}]`;

/** The FROM-clause relation over files of mixed formats, matched by column name. */
export function filesRelation(files: DataFile[]): string {
  const parquet = files.filter((f) => f.format === 'parquet');
  const csv = files.filter((f) => f.format === 'csv' && !f.gzip);
  const gz = files.filter((f) => f.format === 'csv' && f.gzip);
  const parts = [
    parquet.length ? `SELECT * FROM read_parquet(${list(parquet)}, union_by_name = true)` : null,
    csv.length ? `SELECT * FROM read_csv(${list(csv)}, union_by_name = true)` : null,
    gz.length ? `SELECT * FROM read_csv(${list(gz)}, union_by_name = true, compression = 'gzip')` : null,
  ].filter((p): p is string => p !== null);
  return `(${parts.join('\nUNION ALL BY NAME\n')})`;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

function sourceError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const message = (e as Error).message ?? String(e);
  // The sandbox caught a read the path checks did not foresee: refuse it the same way.
  if (/Permission Error/i.test(message))
    return new AppError('INVALID_PATH', `the source reads a file it may not: ${message.split('\n')[0]}`);
  return duckError(e, 'cannot read the source');
}

/**
 * Writes the source once as canonical Parquet: rows sorted by every column (ORDER BY ALL), zstd,
 * fixed row groups. The same rows give the same bytes whatever their order or file layout, so the
 * file's sha256 identifies the content.
 */
export async function materialize(engine: AnalyticsEngine, scratchDir: string, source: CheckedSource): Promise<Materialized> {
  const path = join(scratchDir, `${Date.now()}-${randomBytes(8).toString('hex')}.parquet`);
  const relation = source.kind === 'files' ? filesRelation(source.files) : `(\n${source.query.replace(/[\s;]+$/, '')}\n)`;
  const views = source.kind === 'query' ? source.views : [];
  try {
    await engine.withConnection(async (conn) => {
      try {
        for (const v of views)
          await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(v.name)} AS SELECT * FROM ${readParquet(v.path)}`);
        await conn.run(
          `COPY (SELECT * FROM ${relation} AS source ORDER BY ALL) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
        );
      } finally {
        for (const v of views) await conn.run(`DROP VIEW IF EXISTS ${sqlIdent(v.name)}`).catch(() => undefined);
      }
    });
    const described = await engine.all<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM ${readParquet(path)}`,
    );
    const [count] = await engine.all<{ n: number }>(`SELECT count(*) AS n FROM ${readParquet(path)}`);
    return {
      path,
      digest: await sha256File(path),
      sizeBytes: (await stat(path)).size,
      rows: Number(count?.n ?? 0),
      columns: described.map((c) => ({ name: c.column_name, type: c.column_type })),
    };
  } catch (e) {
    await rm(path, { force: true });
    throw sourceError(e);
  }
}
