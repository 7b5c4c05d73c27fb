import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppContext, connectionSweeper, createApiMetrics, createApp } from './api/index.ts';
import { AuthService } from './auth/index.ts';
import { type Clock, createLogger, type KeelConfig, type Logger, systemClock, type Transactor } from './core/index.ts';
import { createDatasets } from './datasets/index.ts';
import { FeatureStoreService, MaterializationService } from './features/index.ts';
import { builtinStepKinds, PipelineRunner, PipelineService, PipelineTriggers, StepTracking } from './pipelines/index.ts';
import { PromotionGate, PromotionService, RegistryService } from './registry/index.ts';
import { DeploymentService } from './rollouts/index.ts';
import { createPredictPath, createServing, replayPrediction } from './serving/index.ts';
import {
  type BlobStore,
  createAnalyticsEngine,
  createOnlineStore,
  FsBlobStore,
  MemoryEventBus,
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
  const registry = new RegistryService(tx, blobs, tracking, clock, { modelBytes: config.server.modelUploadLimitBytes }, [
    new PromotionGate(),
  ]);
  const promotion = new PromotionService(tx, registry, clock);
  const bus = new MemoryEventBus((e, event) => logger.warn({ err: e, topic: event.topic }, 'event handler failed'));
  const datasets = await createDatasets({
    tx,
    events: bus,
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
  const stepKinds = builtinStepKinds({ engine, datasets: datasets.service, features, registry });
  const pipelineStore = () => tx.stores.pipelines;
  const runner = new PipelineRunner({
    store: pipelineStore,
    blobs,
    tracking: new StepTracking(tracking, pipelineStore, clock),
    kinds: stepKinds,
    clock,
    logger,
    workRoot: join(dataDir, 'pipelines'),
    maxConcurrentSteps: config.pipelines.maxConcurrentSteps,
  });
  const pipelines = new PipelineService(tx, runner, stepKinds, clock, logger);
  const pipelineTriggers = new PipelineTriggers({
    service: pipelines,
    store: pipelineStore,
    bus,
    logger,
    principalFor: (keyId) => auth.principalFor(keyId),
  });
  pipelines.afterApply = () => pipelineTriggers.sync();
  await pipelines.recoverInterrupted();
  await pipelineTriggers.start();

  const { adminKey } = await auth.bootstrap(config.auth.bootstrapAdmin);
  let adminKeyPath: string | null = null;
  if (adminKey) {
    adminKeyPath = join(dataDir, 'admin.key');
    await writeFile(adminKeyPath, `${adminKey}\n`, { mode: 0o600 });
    await chmod(adminKeyPath, 0o600);
  }

  const metrics = createApiMetrics();
  const serving = createServing({
    config: config.serving,
    registry,
    resolveProject: (name) => auth.resolveProject(name),
    cachedProject: (name) => auth.cachedProject(name),
    blobs,
    clock,
    logger,
    metrics: metrics.registry,
  });
  // The serving runtime shares this process: a switch loads and warms its target here before the pointer moves.
  const deployments = new DeploymentService(tx, registry, bus, clock, {
    load: (v) => serving.models.load({ digest: v.artifactDigest, size: v.artifactSize, signature: v.manifest.signature }),
  });
  const predictPath = await createPredictPath({
    config: config.serving,
    dataDir,
    deployments: () => tx.stores.deployments,
    registry,
    features,
    datasets: datasets.service,
    models: serving.models,
    bus,
    metrics: metrics.registry,
    clock,
    logger,
  });

  const ctx: AppContext = {
    config,
    logger,
    clock,
    auth,
    tracking,
    registry,
    promotion,
    datasets: datasets.service,
    features,
    materialization,
    pipelines,
    pipelineTriggers,
    deployments,
    serving,
    predict: predictPath.predict,
    predictPath,
    replay: (actor, requestId) => replayPrediction({ log: predictPath.log, registry, models: serving.models }, actor, requestId),
    events: bus,
    metrics,
    readiness: { metadata: () => (sql ? sql.ping() : Promise.resolve(true)), onlineStore: () => online.ping() },
  };
  const app = await createApp(ctx);
  const connections = connectionSweeper(app.server);
  return {
    app,
    ctx,
    adminKey,
    adminKeyPath,
    async close() {
      await pipelineTriggers.stop();
      // Stop taking requests, let in-flight ones finish (their log records flush), then free models.
      // Connections that go idle (or never carried a request) are closed as they do, rather than
      // lingering for a timeout (a client's pooled connection must not hold a shutdown for a minute).
      const sweep = setInterval(() => connections.sweep(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await predictPath.close();
      await serving.close();
      await pipelines.drain();
      await datasets.close();
      await online.close();
      await engine.close();
      await sql?.close();
    },
  };
}
