export { DeploymentService, deploymentChanged, type RolloutStores, type ServingRuntime } from './deployment-service.ts';
export type { DeploymentStore } from './deployment-store.ts';
export * from './deployment-types.ts';
export { FakeDeploymentStore, newRolloutMemoryState, type RolloutMemoryState } from './fake-deployment-store.ts';
export { SqlDeploymentStore } from './sql-deployment-store.ts';
