export { FakeModelStore, newRegistryMemoryState, type RegistryMemoryState } from './fake-model-store.ts';
export { buildLinearModel, buildOnnxModel, compareSignature, readOnnxSignature } from './onnx/index.ts';
export {
  type AliasGate,
  type AliasGateContext,
  checkAliasName,
  maxVersionNumber,
  type RegisterVersionInput,
  RegistryService,
  type RegistryStores,
} from './registry-service.ts';
export type { ModelStore } from './registry-stores.ts';
export type * from './registry-types.ts';
export { SqlModelStore } from './sql-model-store.ts';
