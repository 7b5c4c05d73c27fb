import { AppError } from '../core/index.ts';
import type { AnalyticsEngine, BlobStore } from '../storage/index.ts';
import type { DatasetVersion, SourceSummary } from './dataset-types.ts';
import type { CheckedSource, DataFile } from './materialize-version.ts';
import { checkDataFile, checkPathShape, formatOf, hasGlob, maxFiles, type PathPolicy } from './path-policy.ts';
import { inspectQuery } from './query-guard.ts';
import { sqlString } from './sql-text.ts';

/** What a registration reads from: files or globs on the server, a DuckDB query, or uploaded blobs. */
export type DatasetSourceInput = { files: string[] } | { query: string } | { upload: string | string[] };

export interface SourceContext {
  engine: AnalyticsEngine;
  policy: PathPolicy;
  blobs: BlobStore & { pathOf(digest: string): string };
  /** A dataset version of the caller's project by id, or the latest version of a dataset by name. */
  findVersion(ref: string): Promise<DatasetVersion | null>;
}

export interface CheckedInput {
  source: CheckedSource;
  summary: SourceSummary;
  /** Versions a query read: they become lineage parents. */
  reads: string[];
}

/** Every file a path or glob names, each checked where it really lives. */
async function expand(ctx: SourceContext, raw: string): Promise<DataFile[]> {
  const abs = checkPathShape(ctx.policy, raw);
  let paths = [abs];
  if (hasGlob(abs)) {
    try {
      paths = (await ctx.engine.all<{ file: string }>(`SELECT file FROM glob(${sqlString(abs)}) ORDER BY file`)).map(
        (r) => r.file,
      );
    } catch (e) {
      throw new AppError('INVALID_PATH', `cannot expand '${raw.slice(0, 300)}': ${(e as Error).message.split('\n')[0]}`);
    }
    if (paths.length === 0) throw new AppError('INVALID_PATH', `no file matches '${raw.slice(0, 300)}'`);
  }
  return Promise.all(
    paths.map(async (p) => {
      const real = await checkDataFile(ctx.policy, raw, p);
      return { path: real, format: formatOf(real) ?? 'csv' };
    }),
  );
}

async function expandAll(ctx: SourceContext, raws: string[]): Promise<DataFile[]> {
  const out = new Map<string, DataFile>();
  for (const raw of raws) {
    for (const f of await expand(ctx, raw)) out.set(f.path, f);
    if (out.size > maxFiles) throw new AppError('BAD_REQUEST', `a dataset reads at most ${maxFiles} files`);
  }
  return [...out.values()];
}

/** Uploads carry no file name: Parquet announces itself with PAR1, gzip with 1f 8b, else CSV. */
async function uploadedFile(ctx: SourceContext, digest: string): Promise<DataFile> {
  if (!(await ctx.blobs.stat(digest)))
    throw new AppError('NOT_FOUND', `no upload with digest ${digest}: POST the file to /api/v1/uploads first`);
  const path = ctx.blobs.pathOf(digest);
  const stream = await ctx.blobs.open(digest);
  let head = Buffer.alloc(0);
  for await (const chunk of stream) {
    head = Buffer.concat([head, chunk as Buffer]);
    if (head.length >= 4) break;
  }
  stream.destroy();
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return { path, format: 'parquet' };
  return { path, format: 'csv', gzip: head[0] === 0x1f && head[1] === 0x8b };
}

async function checkQuery(ctx: SourceContext, query: string): Promise<CheckedInput> {
  const reads = await inspectQuery(ctx.engine, query);
  const views: { name: string; path: string }[] = [];
  const parents: string[] = [];
  const files: string[] = [...reads.files];
  for (const table of reads.tables) {
    const version = await ctx.findVersion(table);
    if (version) {
      views.push({ name: table, path: ctx.blobs.pathOf(version.digest) });
      parents.push(version.id);
    } else if (/[./]/.test(table)) {
      files.push(table);
    } else {
      throw new AppError(
        'BAD_REQUEST',
        `query source refused: '${table}' is not a dataset of this project, a dataset version id or a file path`,
      );
    }
  }
  // Each path is checked (globs expanded); the query then reads them as written, inside the sandbox.
  for (const f of files) await expand(ctx, f);
  return { source: { kind: 'query', query, views }, summary: { kind: 'query', query }, reads: [...new Set(parents)] };
}

/** Turns a registration's source into checked files or a checked query; nothing is read yet. */
export async function checkSource(ctx: SourceContext, input: DatasetSourceInput): Promise<CheckedInput> {
  if ('files' in input) {
    const files = await expandAll(ctx, input.files);
    return {
      source: { kind: 'files', files },
      summary: { kind: 'files', files: input.files.map((f) => checkPathShape(ctx.policy, f)) },
      reads: [],
    };
  }
  if ('query' in input) return checkQuery(ctx, input.query);
  const digests = [...new Set(Array.isArray(input.upload) ? input.upload : [input.upload])];
  const files = await Promise.all(digests.map((d) => uploadedFile(ctx, d)));
  return { source: { kind: 'files', files }, summary: { kind: 'upload', digests }, reads: [] };
}
