import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock, Logger, ServingConfig } from '../../core/index.ts';
import type { DatasetService } from '../../datasets/index.ts';
import type { FeatureStoreService } from '../../features/index.ts';
import type { RegistryService } from '../../registry/index.ts';
import { type DeploymentStore, deploymentChanged } from '../../rollouts/index.ts';
import type { EventBus } from '../../storage/index.ts';
import { InferenceLog, registerInferenceLogMetrics } from '../inference-log/index.ts';
import type { ModelCache } from '../runtime/model-cache.ts';
import { FeatureFetcher } from './feature-fetcher.ts';
import { createPredictMetrics } from './predict-metrics.ts';
import { PredictService } from './predict-service.ts';
import { RouteTable } from './route-table.ts';

export interface PredictPathDeps {
  config: ServingConfig;
  dataDir: string;
  deployments: () => DeploymentStore;
  registry: RegistryService;
  features: FeatureStoreService;
  datasets: DatasetService;
  models: ModelCache;
  bus: EventBus;
  metrics: Registry;
  clock: Clock;
  logger: Logger;
}

export interface PredictPath {
  predict: PredictService;
  routes: RouteTable;
  fetcher: FeatureFetcher;
  log: InferenceLog | null;
  /** Drains queued predictions, then flushes and closes the log (graceful shutdown). */
  close(): Promise<void>;
}

export async function createPredictPath(deps: PredictPathDeps): Promise<PredictPath> {
  const { config } = deps;
  const routes = new RouteTable({
    deployments: deps.deployments,
    registry: deps.registry,
    features: deps.features,
    datasets: deps.datasets,
    models: deps.models,
    metrics: deps.metrics,
    clock: deps.clock,
    logger: deps.logger,
    refreshMs: config.routeRefreshMs,
  });
  const fetcher = new FeatureFetcher(deps.features, {
    timeoutMs: config.featureTimeoutMs,
    failureThreshold: config.breakerThreshold,
    halfOpenAfterMs: config.breakerHalfOpenMs,
    lastKnownEntries: 100_000,
  });
  const log = config.inferenceLog.enabled
    ? await InferenceLog.open({
        dir: config.inferenceLog.dir ?? join(deps.dataDir, 'inference-log'),
        segmentMaxBytes: config.inferenceLog.segmentMaxBytes,
        segmentMaxAgeMs: config.inferenceLog.segmentMaxAgeMs,
        clock: deps.clock,
        logger: deps.logger,
      })
    : null;
  if (log) registerInferenceLogMetrics(deps.metrics, log);
  const predict = new PredictService({
    routes,
    fetcher,
    models: deps.models,
    log,
    metrics: createPredictMetrics(deps.metrics),
    clock: deps.clock,
    logger: deps.logger,
  });
  const unsubscribe = deps.bus.subscribe(deploymentChanged, (e) => routes.invalidate(e.projectId, String(e.payload.name)));
  routes.start();
  return {
    predict,
    routes,
    fetcher,
    log,
    async close() {
      unsubscribe();
      routes.stop();
      await predict.close();
      await log?.close();
    },
  };
}
