import type { DatasetService } from '../../datasets/index.ts';
import type { FeatureStoreService } from '../../features/index.ts';
import type { RegistryService } from '../../registry/index.ts';
import type { AnalyticsEngine } from '../../storage/index.ts';

/** The services built-in steps call; each step goes through the same checks an API call would. */
export interface BuiltinStepDeps {
  engine: AnalyticsEngine;
  datasets: DatasetService;
  features: FeatureStoreService;
  registry: RegistryService;
}
