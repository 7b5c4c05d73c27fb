import type { AuthService } from '../auth/index.ts';
import type { Clock, KeelConfig, Logger } from '../core/index.ts';
import type { DatasetService } from '../datasets/index.ts';
import type { FeatureStoreService, MaterializationService } from '../features/index.ts';
import type { RegistryService } from '../registry/index.ts';
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
  datasets: DatasetService;
  features: FeatureStoreService;
  materialization: MaterializationService;
  metrics: ApiMetrics;
  /** Dependencies checked by /readyz; each resolves true when usable. */
  readiness: Record<string, () => Promise<boolean>>;
}
