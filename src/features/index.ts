export { type PlannedChange, planApply, specDigest } from './apply-plan.ts';
export { FakeFeatureRegistryStore, type FeatureMemoryState, newFeatureMemoryState } from './fake-feature-registry-store.ts';
export { type CompiledService, type CompiledView, compileCatalog, type FeatureCatalog, outputColumn } from './feature-catalog.ts';
export * from './feature-definitions.ts';
export { FeatureStoreService, type FeatureStores, type LoadedCatalog, viewKey } from './feature-store-service.ts';
export type { FeatureObject, FeatureRegistryStore, ViewState } from './feature-stores.ts';
export { loadDefinitions, parseDefinitions } from './load-definitions.ts';
export { MaterializationService, type MaterializeJob, type MaterializeRequest } from './materialization-service.ts';
export { type EntityFrame, getHistoricalFeatures } from './offline/historical-retrieval.ts';
export { materializeView } from './offline/materialize.ts';
export type { DatasetPathResolver } from './offline/source-relation.ts';
export {
  compileReadPlan,
  type FeatureStatus,
  joinKeyProblem,
  type OnlineFeatures,
  type ReadPlan,
  readOnlineFeatures,
  requestTimeOutputs,
  storedOutputs,
} from './online/online-reader.ts';
export { SqlFeatureRegistryStore } from './sql-feature-registry-store.ts';
export { applyTransforms, loadTransforms } from './transforms.ts';
