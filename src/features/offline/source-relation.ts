import { extname } from 'node:path';
import { AppError } from '../../core/index.ts';
import type { SourceDef } from '../feature-definitions.ts';
import { literal } from './sql-text.ts';

/** Finds the local file of a registered dataset version (provided by the datasets module). */
export type DatasetPathResolver = (datasetVersion: string) => Promise<string>;

/** The FROM-clause relation DuckDB reads for a source. */
export async function sourceRelation(source: SourceDef, resolveDataset?: DatasetPathResolver): Promise<string> {
  let path = source.path;
  if (source.dataset) {
    if (!resolveDataset)
      throw new AppError('VALIDATION_FAILED', `source '${source.name}' names a dataset, but datasets are not available`);
    path = await resolveDataset(source.dataset);
  }
  if (!path) throw new AppError('VALIDATION_FAILED', `source '${source.name}' has no path`);
  const ext = extname(path.replace(/\*+$/, '')).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return `read_csv(${literal(path)}, auto_detect = true)`;
  return `read_parquet(${literal(path)})`;
}
