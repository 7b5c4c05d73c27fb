import type { StepKind } from '../step-kind.ts';
import type { BuiltinStepDeps } from './builtin-deps.ts';
import { commandStep } from './command-step.ts';
import { historicalFeaturesStep, loadDatasetStep, queryStep, splitStep, validateStep } from './data-steps.ts';
import { evaluateStep, gateStep, registerStep, trainStep } from './model-steps.ts';

/** Every step kind a pipeline may use, by name. */
export function builtinStepKinds(deps: BuiltinStepDeps): Map<string, StepKind> {
  const kinds = [
    loadDatasetStep(deps),
    validateStep(deps),
    historicalFeaturesStep(deps),
    queryStep(deps),
    splitStep(deps),
    trainStep(deps),
    evaluateStep(deps),
    registerStep(deps),
    gateStep(deps),
    commandStep,
  ];
  return new Map(kinds.map((k) => [k.kind, k]));
}
