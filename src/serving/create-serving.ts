import type { Clock, Logger, ServingConfig } from '../core/index.ts';
import type { RegistryService } from '../registry/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { ModelResolver } from './oip/model-resolver.ts';
import { OipBatchers } from './oip/oip-batching.ts';
import { OipService } from './oip/oip-service.ts';
import { ModelCache } from './runtime/model-cache.ts';
import { ortSessionFactory } from './runtime/ort-session.ts';

export interface ServingDeps {
  config: ServingConfig;
  registry: RegistryService;
  resolveProject(name: string): Promise<{ id: string }>;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
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
  const batchers = new OipBatchers(models);
  const oip = new OipService({
    resolveProject: deps.resolveProject,
    resolver,
    cache: models,
    batchers,
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
