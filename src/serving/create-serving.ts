import type { Registry } from 'prom-client';
import type { Clock, Logger, ServingConfig } from '../core/index.ts';
import type { RegistryService } from '../registry/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { ModelResolver } from './oip/model-resolver.ts';
import { OipBatchers } from './oip/oip-batching.ts';
import { createOipMetrics } from './oip/oip-metrics.ts';
import { OipService } from './oip/oip-service.ts';
import { ModelCache } from './runtime/model-cache.ts';
import { ortSessionFactory } from './runtime/ort-session.ts';

export interface ServingDeps {
  config: ServingConfig;
  registry: RegistryService;
  resolveProject(name: string): Promise<{ id: string }>;
  /** A project `resolveProject` found before, without waiting: lets a request skip a promise per step when all is cached. */
  cachedProject?(name: string): { id: string } | undefined;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
  /** Where the keel_oip_* series go; none without it. */
  metrics?: Registry;
}

/** The data plane's runtime pieces, built once by the composition root. */
export interface Serving {
  models: ModelCache;
  resolver: ModelResolver;
  oip: OipService;
  close(): Promise<void>;
}

export function createServing(deps: ServingDeps): Serving {
  const { config } = deps;
  const models = new ModelCache({
    budgetBytes: config.modelMemoryBudgetBytes,
    memoryFactor: config.modelMemoryFactor,
    warmup: config.warmup,
    failedRetryMs: config.failedRetryMs,
    readBytes: (digest) => deps.blobs.read(digest),
    createSession: ortSessionFactory({ intraOpNumThreads: config.intraOpThreads }),
    clock: deps.clock,
    logger: deps.logger,
  });
  const resolver = new ModelResolver(deps.registry, deps.clock, config.resolveCacheMs);
  const metrics = deps.metrics ? createOipMetrics(deps.metrics) : undefined;
  const batchers = new OipBatchers(models, undefined, metrics);
  const oip = new OipService({
    resolveProject: deps.resolveProject,
    ...(deps.cachedProject ? { cachedProject: deps.cachedProject } : {}),
    resolver,
    cache: models,
    batchers,
    ...(metrics ? { metrics } : {}),
    defaultProject: config.defaultProject,
  });
  return {
    models,
    resolver,
    oip,
    async close() {
      oip.markClosing();
      await batchers.close();
      await models.close();
    },
  };
}
