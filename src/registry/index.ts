export { FakeModelStore, newRegistryMemoryState, type RegistryMemoryState } from './fake-model-store.ts';
export { buildLinearModel, buildOnnxModel, compareSignature, readOnnxSignature } from './onnx/index.ts';
export { canApprove, type PromotionInputs, runPromotionChecks } from './promotion-checks.ts';
export { evaluateGate, type GateEvaluation, PromotionGate } from './promotion-gate.ts';
export { checkPromotionPolicy, defaultDirection, type PolicyIssue, parsePromotionPolicy } from './promotion-policy.ts';
export { type GateReport, type PolicyInput, type PolicyView, PromotionService } from './promotion-service.ts';
export type * from './promotion-types.ts';
export {
  type AliasGate,
  type AliasGateContext,
  checkAliasName,
  type RegisterVersionInput,
  RegistryService,
  type RegistryStores,
} from './registry-service.ts';
export type { ModelStore } from './registry-stores.ts';
export type * from './registry-types.ts';
export { SqlModelStore } from './sql-model-store.ts';
