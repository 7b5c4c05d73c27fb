import { runPromotionChecks } from './promotion-checks.ts';
import type { StoredPolicy } from './promotion-types.ts';
import type { AliasGate, AliasGateContext } from './registry-service.ts';
import type { ModelStore } from './registry-stores.ts';
import type { GateCheck, ModelVersion, RegisteredModel } from './registry-types.ts';

export interface GateEvaluation {
  alias: string;
  protected: boolean;
  currentVersion: number | null;
  passed: boolean;
  checks: GateCheck[];
}

/**
 * Evaluates the model's promotion policy for moving `alias` to `target`, reading through `models`
 * (the move's transaction, or plain reads for a dry run). Unprotected aliases and deletes get no checks.
 */
export async function evaluateGate(
  models: ModelStore,
  model: RegisteredModel,
  alias: string,
  target: ModelVersion | null,
  currentVersion: number | null,
  stored?: StoredPolicy | null,
): Promise<GateEvaluation> {
  const found = stored === undefined ? await models.getPolicy(model.id) : stored;
  const isProtected = found?.policy.protectedAliases.includes(alias) === true;
  if (!found || !isProtected || !target) return { alias, protected: isProtected, currentVersion, passed: true, checks: [] };
  const policy = found.policy;
  const versionOf = (n: number | null) => (n === null ? Promise.resolve(null) : models.getVersion(model.id, n));
  const current = await versionOf(currentVersion);
  const refAlias = policy.checks.noRegression?.against ?? alias;
  const reference =
    refAlias === alias
      ? current
      : await versionOf((await models.listAliases(model.id)).find((a) => a.alias === refAlias)?.version ?? null);
  const approvals = (await models.listApprovals(model.id, target.version)).filter((a) => a.alias === null || a.alias === alias);
  const checks = runPromotionChecks({
    policy,
    alias,
    candidate: target,
    current,
    reference: { alias: refAlias, version: reference },
    approvals,
  });
  return { alias, protected: true, currentVersion, passed: checks.every((c) => c.passed), checks };
}

/** The promotion gate: a move to a protected alias passes only when every check of the model's policy does. */
export class PromotionGate implements AliasGate {
  async check(ctx: AliasGateContext): Promise<GateCheck[]> {
    return (await evaluateGate(ctx.stores.models, ctx.model, ctx.alias, ctx.target, ctx.currentVersion)).checks;
  }
}
