import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock, Transactor } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import type { BlobStore, EventBus } from '../storage/index.ts';
import type { DatasetStores } from './contract-service.ts';
import { createDatasetEngine } from './dataset-engine.ts';
import { DatasetService } from './dataset-service.ts';
import { createPathPolicy } from './path-policy.ts';

export interface CreateDatasetsOptions {
  tx: Transactor<DatasetStores>;
  blobs: BlobStore;
  clock: Clock;
  dataDir: string;
  /** Where the blob store keeps its files (read in place by DuckDB). */
  blobDir: string;
  /** Folders sources may read (config datasets.allowedRoots); default `<dataDir>/imports` and the working directory. */
  allowedRoots?: readonly string[];
  threads?: number;
  /** Where `dataset.version.created` is published (pipeline triggers listen). */
  events?: EventBus;
}

/** Builds the datasets module: scratch folder, path policy, sandboxed DuckDB and the service. */
export async function createDatasets(opts: CreateDatasetsOptions): Promise<{ service: DatasetService; close(): Promise<void> }> {
  const { blobs } = opts;
  if (!blobs.pathOf) throw new AppError('CONFIG_INVALID', 'datasets need a blob store that keeps blobs as local files');
  const scratchDir = resolve(opts.dataDir, 'datasets', 'scratch');
  // Leftovers are registrations a crash interrupted; they were never stored.
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(join(scratchDir, 'spill'), { recursive: true });
  const imports = resolve(opts.dataDir, 'imports');
  await mkdir(imports, { recursive: true });
  const blobDir = resolve(opts.blobDir);
  // The data dir holds keys, databases, blobs and every project's retrievals: only its imports folder is readable.
  const policy = await createPathPolicy(opts.allowedRoots ?? [imports, process.cwd()], [
    resolve(opts.dataDir),
    blobDir,
    scratchDir,
  ]);
  const engine = await createDatasetEngine({
    readableDirs: [...policy.roots, blobDir],
    scratchDir,
    ...(opts.threads ? { threads: opts.threads } : {}),
  });
  const service = new DatasetService(opts.tx, {
    engine,
    blobs: blobs as BlobStore & { pathOf(digest: string): string },
    clock: opts.clock,
    policy,
    scratchDir,
    ...(opts.events ? { events: opts.events } : {}),
  });
  return { service, close: () => engine.close() };
}
