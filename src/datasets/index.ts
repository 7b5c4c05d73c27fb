export type { DatasetSourceInput } from './check-source.ts';
export * from './contract/index.ts';
export { ContractService, type DatasetStores, parseContractRef, type ResolvedContract } from './contract-service.ts';
export { type CreateDatasetsOptions, createDatasets } from './create-datasets.ts';
export { createDatasetEngine } from './dataset-engine.ts';
export { DatasetService, type ValidateDatasetInput } from './dataset-service.ts';
export type { ContractStore, DatasetStore } from './dataset-stores.ts';
export type * from './dataset-types.ts';
export { quantileLevels } from './dataset-types.ts';
export { type DatasetMemoryState, FakeContractStore, FakeDatasetStore, newDatasetMemoryState } from './fake-dataset-stores.ts';
export {
  checkDatasetName,
  type DatasetServiceDeps,
  type DatasetVersionView,
  datasetVersionId,
  type RegisterDatasetInput,
} from './register-dataset.ts';
export { SqlContractStore } from './sql-contract-store.ts';
export { SqlDatasetStore } from './sql-dataset-store.ts';
