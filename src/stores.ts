import type { Kysely } from 'kysely';
import {
  type ApiKeyStore,
  type AuditStore,
  FakeApiKeyStore,
  FakeAuditStore,
  FakeProjectStore,
  newAuthMemoryState,
  type ProjectStore,
  SqlApiKeyStore,
  SqlAuditStore,
  SqlProjectStore,
} from './auth/index.ts';
import type { Transactor } from './core/index.ts';
import {
  type ContractStore,
  type DatasetStore,
  FakeContractStore,
  FakeDatasetStore,
  newDatasetMemoryState,
  SqlContractStore,
  SqlDatasetStore,
} from './datasets/index.ts';
import {
  FakeFeatureRegistryStore,
  type FeatureRegistryStore,
  newFeatureMemoryState,
  SqlFeatureRegistryStore,
} from './features/index.ts';
import { FakePipelineStore, newPipelineMemoryState, type PipelineStore, SqlPipelineStore } from './pipelines/index.ts';
import { FakeModelStore, type ModelStore, newRegistryMemoryState, SqlModelStore } from './registry/index.ts';
import { type DeploymentStore, FakeDeploymentStore, newRolloutMemoryState, SqlDeploymentStore } from './rollouts/index.ts';
import { type Database, MemoryTransactor, SqlTransactor } from './storage/index.ts';
import {
  type ExperimentStore,
  FakeExperimentStore,
  FakeRunStore,
  newTrackingMemoryState,
  type RunStore,
  SqlExperimentStore,
  SqlRunStore,
} from './tracking/index.ts';

/** Every metadata store, bundled so one transaction can span modules (a mutation and its audit row). */
export interface Stores {
  projects: ProjectStore;
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  experiments: ExperimentStore;
  runs: RunStore;
  models: ModelStore;
  datasets: DatasetStore;
  dataContracts: ContractStore;
  featureRegistry: FeatureRegistryStore;
  pipelines: PipelineStore;
  deployments: DeploymentStore;
}

export function sqlStores(db: Kysely<Database>): Stores {
  return {
    projects: new SqlProjectStore(db),
    apiKeys: new SqlApiKeyStore(db),
    audit: new SqlAuditStore(db),
    experiments: new SqlExperimentStore(db),
    runs: new SqlRunStore(db),
    models: new SqlModelStore(db),
    datasets: new SqlDatasetStore(db),
    dataContracts: new SqlContractStore(db),
    featureRegistry: new SqlFeatureRegistryStore(db),
    pipelines: new SqlPipelineStore(db),
    deployments: new SqlDeploymentStore(db),
  };
}

export const sqlTransactor = (db: Kysely<Database>): Transactor<Stores> => new SqlTransactor(db, sqlStores);

/** All stores as in-memory fakes over one state object, with snapshot rollback. */
export function memoryTransactor(): Transactor<Stores> {
  const state = {
    auth: newAuthMemoryState(),
    tracking: newTrackingMemoryState(),
    registry: newRegistryMemoryState(),
    datasets: newDatasetMemoryState(),
    features: newFeatureMemoryState(),
    pipelines: newPipelineMemoryState(),
    rollouts: newRolloutMemoryState(),
  };
  const stores: Stores = {
    projects: new FakeProjectStore(state),
    apiKeys: new FakeApiKeyStore(state),
    audit: new FakeAuditStore(state),
    experiments: new FakeExperimentStore(state),
    runs: new FakeRunStore(state),
    models: new FakeModelStore(state),
    datasets: new FakeDatasetStore(state),
    dataContracts: new FakeContractStore(state),
    featureRegistry: new FakeFeatureRegistryStore(state),
    pipelines: new FakePipelineStore(state),
    deployments: new FakeDeploymentStore(state),
  };
  return new MemoryTransactor(stores, state);
}
