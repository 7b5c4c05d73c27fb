export { FakeExperimentStore, FakeRunStore, newTrackingMemoryState, type TrackingMemoryState } from './fake-tracking-stores.ts';
export { parseFilter, parseOrderBy } from './search/index.ts';
export { SqlExperimentStore } from './sql-experiment-store.ts';
export { SqlRunStore } from './sql-run-store.ts';
export {
  type LogBatchInput,
  type SearchRunsInput,
  type StartRunInput,
  TrackingService,
  type TrackingStores,
} from './tracking-service.ts';
export type { ExperimentStore, RunSearchQuery, RunStore } from './tracking-stores.ts';
export * from './tracking-types.ts';
export { normalizeArtifactPath, trackingLimits } from './tracking-validation.ts';
