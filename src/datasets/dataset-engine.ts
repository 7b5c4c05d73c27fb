import { join } from 'node:path';
import { type AnalyticsEngine, createAnalyticsEngine } from '../storage/index.ts';
import { sqlString } from './sql-text.ts';

const asDir = (p: string) => (p.endsWith('/') ? p : `${p}/`);

/**
 * The DuckDB instance dataset work runs on, sandboxed: it reads and writes only inside the given
 * folders, never installs or autoloads extensions (no http, no s3), and the configuration is then
 * locked so no query can undo it. This backs up the path checks done before any query runs.
 */
export async function createDatasetEngine(opts: {
  readableDirs: string[];
  scratchDir: string;
  threads?: number;
}): Promise<AnalyticsEngine> {
  const dirs = [...opts.readableDirs, opts.scratchDir].map((d) => sqlString(asDir(d)));
  return createAnalyticsEngine({
    ...(opts.threads ? { threads: opts.threads } : {}),
    init: [
      `SET temp_directory = ${sqlString(join(opts.scratchDir, 'spill'))}`,
      `SET allowed_directories = [${dirs.join(', ')}]`,
      'SET autoinstall_known_extensions = false',
      'SET autoload_known_extensions = false',
      'SET enable_external_access = false',
      'SET lock_configuration = true',
    ],
  });
}
