import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppContext, createApiMetrics, createApp } from './api/index.ts';
import { AuthService } from './auth/index.ts';
import { type Clock, createLogger, type KeelConfig, type Logger, systemClock, type Transactor } from './core/index.ts';
import { createDatasets } from './datasets/index.ts';
import { FeatureStoreService, MaterializationService } from './features/index.ts';
import { RegistryService } from './registry/index.ts';
import {
  type BlobStore,
  createAnalyticsEngine,
  createOnlineStore,
  FsBlobStore,
  MemoryOnlineStore,
  type OnlineStore,
  openSqlDatabase,
  type SqlDatabase,
} from './storage/index.ts';
import { memoryTransactor, type Stores, sqlTransactor } from './stores.ts';
import { TrackingService } from './tracking/index.ts';

export interface Keel {
  app: FastifyInstance;
  ctx: AppContext;
  /** The bootstrap admin key, when this start created one. */
  adminKey: string | null;
  adminKeyPath: string | null;
  close(): Promise<void>;
}

export interface CreateKeelOptions {
  clock?: Clock;
  logger?: Logger;
  /** Use in-memory fakes instead of SQL (unit tests). */
  memory?: boolean;
}

/** Composition root: config → storage → services → HTTP app. */
export async function createKeel(config: KeelConfig, opts: CreateKeelOptions = {}): Promise<Keel> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config.log.level);
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  let sql: SqlDatabase | null = null;
  let tx: Transactor<Stores>;
  if (opts.memory) {
    tx = memoryTransactor();
  } else {
    sql = await openSqlDatabase(config);
    tx = sqlTransactor(sql.db);
  }
  const blobDir = config.blobs.dir ?? join(dataDir, 'blobs');
  const blobs: BlobStore = await FsBlobStore.create(blobDir);
  const auth = new AuthService(tx, clock);
  const tracking = new TrackingService(tx, blobs, clock, { artifactBytes: config.server.artifactLimitBytes });
  const registry = new RegistryService(tx, blobs, tracking, clock, { modelBytes: config.server.modelUploadLimitBytes });
  const datasets = await createDatasets({
    tx,
    blobs,
    clock,
    dataDir,
    blobDir,
    ...(config.datasets.allowedRoots ? { allowedRoots: config.datasets.allowedRoots } : {}),
  });
  const engine = await createAnalyticsEngine();
  const online: OnlineStore = opts.memory ? new MemoryOnlineStore() : await createOnlineStore(config);
  const features = new FeatureStoreService(tx, engine, online, clock, dataDir, (v, projectId) =>
    datasets.service.resolveDatasetPath(v, projectId),
  );
  const materialization = new MaterializationService(features, clock);

  const { adminKey } = await auth.bootstrap(config.auth.bootstrapAdmin);
  let adminKeyPath: string | null = null;
  if (adminKey) {
    adminKeyPath = join(dataDir, 'admin.key');
    await writeFile(adminKeyPath, `${adminKey}\n`, { mode: 0o600 });
    await chmod(adminKeyPath, 0o600);
  }

  const ctx: AppContext = {
    config,
    logger,
    clock,
    auth,
    tracking,
    registry,
    datasets: datasets.service,
    features,
    materialization,
    metrics: createApiMetrics(),
    readiness: { metadata: () => (sql ? sql.ping() : Promise.resolve(true)), onlineStore: () => online.ping() },
  };
  const app = await createApp(ctx);
  return {
    app,
    ctx,
    adminKey,
    adminKeyPath,
    async close() {
      await app.close();
      await datasets.close();
      await online.close();
      await engine.close();
      await sql?.close();
    },
  };
}
