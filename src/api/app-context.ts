import type { AuthService, Principal } from '../auth/index.ts';
import type { Clock, KeelConfig, Logger } from '../core/index.ts';
import type { DatasetService } from '../datasets/index.ts';
import type { FeatureStoreService, MaterializationService } from '../features/index.ts';
import type { PipelineService, PipelineTriggers } from '../pipelines/index.ts';
import type { PromotionService, RegistryService } from '../registry/index.ts';
import type { DeploymentService } from '../rollouts/index.ts';
import type { PredictPath, PredictService, ReplayResult, Serving } from '../serving/index.ts';
import type { EventBus } from '../storage/index.ts';
import type { TrackingService } from '../tracking/index.ts';
import type { ApiMetrics } from './api-metrics.ts';

/** Everything the HTTP layer needs, built once by the composition root. */
export interface AppContext {
  config: KeelConfig;
  logger: Logger;
  clock: Clock;
  auth: AuthService;
  tracking: TrackingService;
  registry: RegistryService;
  promotion: PromotionService;
  datasets: DatasetService;
  features: FeatureStoreService;
  materialization: MaterializationService;
  pipelines: PipelineService;
  pipelineTriggers: PipelineTriggers;
  deployments: DeploymentService;
  /** The data plane: model runtime and the Open Inference Protocol. */
  serving: Serving;
  predict: PredictService;
  predictPath: PredictPath;
  replay(actor: Principal, requestId: string): Promise<ReplayResult>;
  events: EventBus;
  metrics: ApiMetrics;
  /** Dependencies checked by /readyz; each resolves true when usable. */
  readiness: Record<string, () => Promise<boolean>>;
}
